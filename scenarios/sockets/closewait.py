#!/usr/bin/env python3
"""A server that accepts connections and never reads or closes them, and clients that send a
request and hang up: the server's side of each connection sits in CLOSE_WAIT with the unread
request in Recv-Q, the way a hung Go service's sockets look.

Run as root via capture.sh, which puts it in a private network namespace so that the captured
tables hold only these sockets. Everything binds loopback addresses.

  IPv4  127.0.0.1:6379 (a name in the services table: `redis`)
        5 clients send 100 bytes each and close   -> 5 CLOSE_WAIT, Recv-Q 101 or 100
        2 clients send 37 bytes and stay open     -> 2 ESTABLISHED pairs
  IPv6  [::1]:8080 (`http-alt`)
        3 clients send 10 bytes and close          -> 3 CLOSE_WAIT
  dual  [::]:5432 (`postgresql`) without IPV6_V6ONLY, reached from 127.0.0.1
        1 client sends 5 bytes and closes          -> CLOSE_WAIT on [::ffff:127.0.0.1]:5432

When everything is in place it prints `ready` and waits for a line on stdin before exiting.
"""
import socket
import sys
import time

held = []


def listener(family, addr, port, v6only=None):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if v6only else 0)
    s.bind((addr, port))
    s.listen(128)
    held.append(s)
    return s


def clients(srv, family, addr, port, n, payload, close):
    for _ in range(n):
        c = socket.socket(family, socket.SOCK_STREAM)
        c.connect((addr, port))
        conn, _ = srv.accept()
        held.append(conn)  # accepted, never read, never closed
        c.sendall(payload)
        if close:
            c.close()
        else:
            held.append(c)


def main():
    v4 = listener(socket.AF_INET, "127.0.0.1", 6379)
    v6 = listener(socket.AF_INET6, "::1", 8080, v6only=True)
    dual = listener(socket.AF_INET6, "::", 5432, v6only=False)
    clients(v4, socket.AF_INET, "127.0.0.1", 6379, 5, b"x" * 100, close=True)
    clients(v4, socket.AF_INET, "127.0.0.1", 6379, 2, b"y" * 37, close=False)
    clients(v6, socket.AF_INET6, "::1", 8080, 3, b"z" * 10, close=True)
    clients(dual, socket.AF_INET, "127.0.0.1", 5432, 1, b"w" * 5, close=True)
    time.sleep(0.5)  # let the FINs arrive
    print("ready", flush=True)
    sys.stdin.readline()


if __name__ == "__main__":
    main()

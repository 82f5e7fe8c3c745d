package main

import (
	"log"
	"net"
	"sync"
)

// stalledUpstream stands in for the third-party address API during its
// outage: it accepts TCP connections and never reads or answers; the kernel
// buffers the requests.
type stalledUpstream struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startStalledUpstream() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatalf("address api stand-in: %v", err)
	}
	u := &stalledUpstream{ln: ln}
	go u.acceptLoop()
	return ln.Addr().String()
}

func (u *stalledUpstream) acceptLoop() {
	for {
		c, err := u.ln.Accept()
		if err != nil {
			return
		}
		u.mu.Lock()
		u.conns = append(u.conns, c)
		u.mu.Unlock()
	}
}

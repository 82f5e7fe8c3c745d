#!/usr/bin/env python3
"""Run the hanging-service scenarios and capture the evidence each one leaves.

For every scenario directory scenarios/<family>/<name>/ (a Go main package with an
expect.json), this script builds the program, starts the servers it needs (redis-server,
PostgreSQL) on free 127.0.0.1 ports in temporary directories, starts the program, waits for
its "HANGDOC READY pprof=ADDR [service=ADDR]" line, and writes into OUT/<name>/:

    debug2.txt        /debug/pprof/goroutine?debug=2
    debug1.txt        /debug/pprof/goroutine?debug=1
    goroutine.pb.gz   /debug/pprof/goroutine (binary profile)
    ss.txt            `ss -tanp`, only the scenario's processes and its service/server ports
    series/01..03.txt debug=2 snapshots about 2 s apart
    meta.json         Go version, time, commands, ports, server versions

Then it kills the scenario's whole process group. Servers are stopped at the end, also on
errors and on Ctrl-C. Python 3 standard library only.

A scenario whose expect.json says "capture": "crash" is a program that dies by itself with
a Go runtime crash dump (e.g. "fatal error: all goroutines are asleep - deadlock!"): it serves
no pprof and prints no READY line. Its stderr becomes debug2.txt, next to meta.json; it must
exit non-zero, within --crash-timeout, and its stderr must hold a "goroutine N [...]" header.

    python3 scenarios/capture.py                   # every family, into tests/fixtures/scenarios
    python3 scenarios/capture.py --only sql-rows-leak --out /tmp/caps
    python3 scenarios/capture.py --family incidents --list
    python3 scenarios/capture.py --family classic --jobs 2 --out /tmp/caps
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as _dt
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_OUT = os.path.join(REPO, "tests", "fixtures", "scenarios")
READY_RE = re.compile(r"^HANGDOC READY pprof=(\S+)(?: service=(\S+))?\s*$")
SERIES_COUNT = 3
SERIES_GAP_S = 2.0
HTTP_TIMEOUT_S = 30
MAX_FILE_BYTES = 2 * 1024 * 1024


class CaptureError(Exception):
    """A scenario or server failed; the message says what to do."""


def log(msg: str) -> None:
    print(f"capture: {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- discovery


class Scenario:
    def __init__(self, family_dir: str, name: str):
        self.family_dir = family_dir
        self.family = os.path.basename(family_dir)
        self.name = name
        self.dir = os.path.join(family_dir, name)
        with open(os.path.join(self.dir, "expect.json"), encoding="utf-8") as f:
            self.expect = json.load(f)
        self.servers = [normalize_server(s) for s in self.expect.get("servers", [])]
        self.capture = self.expect.get("capture") or "ready"
        if self.capture not in ("ready", "crash"):
            raise CaptureError(f"{self.family}/{name}: unknown \"capture\": {self.capture!r} "
                               "in expect.json (known: \"crash\"; absent means the READY protocol)")


def normalize_server(name: str) -> str:
    n = name.strip().lower()
    if n in ("pg", "postgres", "postgresql"):
        return "postgres"
    if n == "redis":
        return "redis"
    raise CaptureError(f"unknown server {name!r} in expect.json (known: redis, postgres)")


def discover(family: str | None, only: list[str]) -> list[Scenario]:
    found = []
    for gomod in sorted(glob.glob(os.path.join(HERE, "*", "go.mod"))):
        fam_dir = os.path.dirname(gomod)
        if family and os.path.basename(fam_dir) != family:
            continue
        for exp in sorted(glob.glob(os.path.join(fam_dir, "*", "expect.json"))):
            name = os.path.basename(os.path.dirname(exp))
            if only and name not in only:
                continue
            found.append(Scenario(fam_dir, name))
    missing = set(only) - {s.name for s in found}
    if missing:
        raise CaptureError(f"no scenario named {', '.join(sorted(missing))}"
                           + (f" in family {family}" if family else "")
                           + " (try --list)")
    if not found:
        raise CaptureError("no scenarios found" + (f" in family {family}" if family else ""))
    return found


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float, proc: subprocess.Popen | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def kill_group(proc: subprocess.Popen | None, grace: float = 2.0) -> None:
    """Stops a process started with start_new_session=True and everything in its group."""
    if proc is None:
        return
    # A session leader's group id is its pid, and the group outlives the leader as long as
    # any member does: kill it by that id even when the leader has already exited.
    pgid = proc.pid
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; make sure nothing else of its group is left.
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        return


def run(cmd: list[str], timeout: float, **kw) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, timeout=timeout, capture_output=True, text=True, **kw)
    except subprocess.TimeoutExpired as e:
        raise CaptureError(f"{' '.join(cmd)} did not finish within {timeout:.0f}s") from e
    except FileNotFoundError as e:
        raise CaptureError(f"{cmd[0]} not found") from e


# --------------------------------------------------------------------------- servers


class Servers:
    """Private redis / PostgreSQL instances, started on first use, stopped by stop()."""

    def __init__(self, workdir: str):
        self.workdir = workdir
        self.redis_proc: subprocess.Popen | None = None
        self.redis_port = 0
        self.redis_version = ""
        self.pg_dir = ""
        self.pg_bin = ""
        self.pg_port = 0
        self.pg_user = ""
        self.pg_version = ""
        self.pg_started = False
        self.pg_as_postgres = False

    def env_for(self, needed: list[str]) -> dict[str, str]:
        env = {}
        if "redis" in needed:
            self.start_redis()
            env["REDIS_ADDR"] = f"127.0.0.1:{self.redis_port}"
        if "postgres" in needed:
            self.start_postgres()
            env["PG_DSN"] = (f"postgres://{self.pg_user}@127.0.0.1:{self.pg_port}/postgres"
                             "?sslmode=disable")
        return env

    def ports(self, needed: list[str]) -> dict[str, int]:
        out = {}
        if "redis" in needed:
            out["redis"] = self.redis_port
        if "postgres" in needed:
            out["postgres"] = self.pg_port
        return out

    def versions(self, needed: list[str]) -> dict[str, str]:
        out = {}
        if "redis" in needed:
            out["redis"] = self.redis_version
        if "postgres" in needed:
            out["postgres"] = self.pg_version
        return out

    # redis ---------------------------------------------------------------

    def start_redis(self) -> None:
        if self.redis_proc is not None and self.redis_proc.poll() is None:
            return
        exe = shutil.which("redis-server")
        if not exe:
            raise CaptureError("redis-server not found: run `bash scenarios/setup-servers.sh` as root")
        self.redis_version = run([exe, "--version"], 30).stdout.strip()
        rdir = os.path.join(self.workdir, "redis")
        os.makedirs(rdir, exist_ok=True)
        self.redis_port = free_port()
        logf = open(os.path.join(rdir, "redis.log"), "wb")
        self.redis_proc = subprocess.Popen(
            [exe, "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", rdir, "--maxclients", "1000"],
            stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        logf.close()
        if not wait_port(self.redis_port, 20, self.redis_proc):
            raise CaptureError(f"redis-server did not listen on 127.0.0.1:{self.redis_port}; "
                               f"see {rdir}/redis.log")
        log(f"redis-server on 127.0.0.1:{self.redis_port}")

    # PostgreSQL ----------------------------------------------------------

    def find_pg_bin(self) -> str:
        cands = []
        if shutil.which("pg_config"):
            r = run(["pg_config", "--bindir"], 30)
            if r.returncode == 0:
                cands.append(r.stdout.strip())
        cands += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
        for c in cands:
            if os.path.exists(os.path.join(c, "initdb")) and os.path.exists(os.path.join(c, "pg_ctl")):
                return c
        for tool in ("initdb", "pg_ctl"):
            if not shutil.which(tool):
                break
        else:
            return os.path.dirname(os.path.realpath(shutil.which("initdb")))
        raise CaptureError("PostgreSQL (initdb, pg_ctl) not found: run "
                           "`bash scenarios/setup-servers.sh` as root")

    def pg_cmd(self, args: list[str]) -> list[str]:
        if self.pg_as_postgres:
            if shutil.which("runuser"):
                return ["runuser", "-u", "postgres", "--"] + args
            return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(map(shell_quote, args))]
        return args

    def start_postgres(self) -> None:
        if self.pg_started:
            return
        self.pg_bin = self.find_pg_bin()
        self.pg_as_postgres = os.geteuid() == 0
        if self.pg_as_postgres:
            try:
                import pwd
                pw = pwd.getpwnam("postgres")
            except KeyError as e:
                raise CaptureError("running as root but there is no 'postgres' user to run "
                                   "PostgreSQL as: run `bash scenarios/setup-servers.sh`") from e
            self.pg_user = "postgres"
        else:
            import getpass
            self.pg_user = getpass.getuser()
        self.pg_dir = os.path.join(self.workdir, "pg")
        data, sock = os.path.join(self.pg_dir, "data"), os.path.join(self.pg_dir, "sock")
        os.makedirs(sock, exist_ok=True)
        if self.pg_as_postgres:
            # initdb refuses root; the postgres user needs to reach and own the directory.
            os.chmod(self.workdir, 0o755)
            for d in (self.pg_dir, sock):
                os.chown(d, pw.pw_uid, pw.pw_gid)
        initdb = os.path.join(self.pg_bin, "initdb")
        r = run(self.pg_cmd([initdb, "-D", data, "-U", self.pg_user, "-A", "trust",
                             "-E", "UTF8", "--no-sync"]), 180)
        if r.returncode != 0:
            raise CaptureError(f"initdb failed:\n{r.stdout}{r.stderr}")
        self.pg_version = run([os.path.join(self.pg_bin, "postgres"), "--version"], 30).stdout.strip()
        self.pg_port = free_port()
        opts = (f"-p {self.pg_port} -k {sock} -c listen_addresses=127.0.0.1 "
                "-c max_connections=200 -c fsync=off")
        pg_ctl = os.path.join(self.pg_bin, "pg_ctl")
        r = run(self.pg_cmd([pg_ctl, "-D", data, "-l", os.path.join(self.pg_dir, "server.log"),
                             "-o", opts, "-w", "-t", "60", "start"]), 90,
                stdin=subprocess.DEVNULL)
        self.pg_started = True  # even if it failed half-way, stop() tries
        if r.returncode != 0:
            raise CaptureError(f"pg_ctl start failed:\n{r.stdout}{r.stderr}\n"
                               f"see {self.pg_dir}/server.log")
        if not wait_port(self.pg_port, 30):
            raise CaptureError(f"PostgreSQL did not listen on 127.0.0.1:{self.pg_port}")
        log(f"PostgreSQL on 127.0.0.1:{self.pg_port}")

    # ---------------------------------------------------------------------

    def stop(self) -> None:
        if self.redis_proc is not None:
            kill_group(self.redis_proc)
            self.redis_proc = None
        if self.pg_started:
            data = os.path.join(self.pg_dir, "data")
            try:
                run(self.pg_cmd([os.path.join(self.pg_bin, "pg_ctl"), "-D", data,
                                 "-m", "immediate", "-w", "-t", "30", "stop"]), 60)
            except CaptureError as e:
                log(f"warning: {e}")
            pidfile = os.path.join(data, "postmaster.pid")
            if os.path.exists(pidfile):  # pg_ctl failed: kill the postmaster ourselves
                try:
                    with open(pidfile) as f:
                        pid = int(f.readline().strip())
                    os.kill(pid, signal.SIGKILL)
                except (OSError, ValueError):
                    pass
            self.pg_started = False


def shell_quote(s: str) -> str:
    return "'" + s.replace("'", "'\\''") + "'"


# --------------------------------------------------------------------------- capture


def go_version() -> str:
    r = run(["go", "version"], 60)
    if r.returncode != 0:
        raise CaptureError("`go version` failed: is Go installed and on PATH?")
    return r.stdout.strip()


def build(sc: Scenario, bindir: str) -> str:
    # The binary's name is what ss shows as the process: a neutral service name from
    # expect.json's "process_name", never the scenario's (which describes the bug).
    out = os.path.join(bindir, f"{sc.family}-{sc.name}", sc.expect.get("process_name") or "service")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    cmd = ["go", "build", "-trimpath", "-o", out, "./" + sc.name]
    log(f"building {sc.family}/{sc.name}")
    r = run(cmd, 900, cwd=sc.family_dir)
    if r.returncode != 0:
        raise CaptureError(f"build of {sc.family}/{sc.name} failed:\n{r.stderr}")
    return out


def http_get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as resp:
        return resp.read()


def descendants(pid: int) -> set[int]:
    """pid and every process below it (read from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as f:
                data = f.read()
            ppid = int(data[data.rindex(")") + 2:].split()[1])
            children.setdefault(ppid, []).append(int(stat.split("/")[2]))
        except (OSError, ValueError, IndexError):
            continue
    out, todo = set(), [pid]
    while todo:
        p = todo.pop()
        if p not in out:
            out.add(p)
            todo.extend(children.get(p, []))
    return out


def socket_table(pids: set[int], ports: set[int]) -> str:
    r = run(["ss", "-tanp"], 60)
    if r.returncode != 0:
        raise CaptureError(f"ss -tanp failed: {r.stderr.strip()}")
    lines = r.stdout.splitlines()
    if not lines:
        return ""
    keep = [lines[0]]
    pid_re = re.compile(r"pid=(\d+)")
    for line in lines[1:]:
        fields = line.split()
        if len(fields) < 5:
            continue
        line_ports = set()
        for addr in fields[3:5]:
            port = addr.rsplit(":", 1)[-1]
            if port.isdigit():
                line_ports.add(int(port))
        line_pids = {int(p) for p in pid_re.findall(line)}
        if line_ports & ports or line_pids & pids:
            keep.append(line)
    return "\n".join(keep) + "\n"


def write(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    if len(data) > MAX_FILE_BYTES:
        log(f"warning: {path} is {len(data)} bytes (more than {MAX_FILE_BYTES})")


def scenario_env(sc: Scenario, servers: Servers, scratch: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(servers.env_for(sc.servers))
    env["HANGDOC_PPROF_ADDR"] = "127.0.0.1:0"
    env["TMPDIR"] = scratch  # whatever the scenario writes lands in our temp dir
    env.setdefault("GOTRACEBACK", "all")
    return env


def this_command() -> list[str]:
    return ([os.path.relpath(sys.argv[0], REPO) if os.path.isabs(sys.argv[0]) else sys.argv[0]]
            + sys.argv[1:])


def build_command(sc: Scenario) -> str:
    return (f"cd scenarios/{sc.family} && go build -trimpath "
            f"-o {sc.expect.get('process_name') or 'service'} ./{sc.name}")


def fresh_dest(out_root: str, sc: Scenario) -> str:
    dest = os.path.join(out_root, sc.name)
    if os.path.isdir(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    return dest


# "goroutine 1 [running]:", also with "gp=… m=… mp=…" before the bracket.
GOROUTINE_HEADER_RE = re.compile(rb"^goroutine \d+ [^\n]*\[", re.M)


def capture_crash(sc: Scenario, binary: str, servers: Servers, out_root: str,
                  workdir: str, crash_timeout: float, gover: str) -> str:
    """Runs a program that dies by itself with a runtime crash dump; keeps its stderr."""
    scratch = tempfile.mkdtemp(prefix=f"{sc.name}-", dir=workdir)
    env = scenario_env(sc, servers, scratch)
    stdout_path = os.path.join(scratch, "stdout.log")
    stderr_path = os.path.join(scratch, "stderr.log")
    log(f"starting {sc.family}/{sc.name} (expecting it to crash)")
    with open(stdout_path, "wb") as outf, open(stderr_path, "wb") as errf:
        proc = subprocess.Popen([binary], env=env, cwd=scratch, stdout=outf, stderr=errf,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    started = time.monotonic()
    try:
        try:
            status = proc.wait(timeout=crash_timeout)
        except subprocess.TimeoutExpired:
            status = None
    finally:
        # Whatever it started goes too, and a program that did not crash is stopped.
        kill_group(proc, grace=0.5)
    ran = time.monotonic() - started
    with open(stderr_path, "rb") as f:
        stderr = f.read()
    tail = stderr[-3000:].decode("utf-8", "replace")
    if status is None:
        raise CaptureError(f"scenario {sc.family}/{sc.name} (capture: crash) did not exit "
                           f"within {crash_timeout:.0f}s; killed it.\n--- its stderr (tail):\n{tail}")
    if status == 0:
        raise CaptureError(f"scenario {sc.family}/{sc.name} (capture: crash) exited with status 0 "
                           f"instead of crashing.\n--- its stderr (tail):\n{tail}")
    if not GOROUTINE_HEADER_RE.search(stderr):
        raise CaptureError(f"scenario {sc.family}/{sc.name} (capture: crash) exited with status "
                           f"{status} but its stderr has no 'goroutine N [...]' header, so it is "
                           f"not a runtime crash dump.\n--- its stderr (tail):\n{tail}")
    log(f"{sc.name} crashed after {ran:.1f}s with status {status} "
        f"({len(GOROUTINE_HEADER_RE.findall(stderr))} goroutines in the dump)")
    dest = fresh_dest(out_root, sc)
    write(os.path.join(dest, "debug2.txt"), stderr)
    meta = {
        "scenario": sc.name,
        "family": sc.family,
        "capture": "crash",
        "go_version": gover,
        "captured_at": utc_now(),
        "exit_status": status,
        "crashed_after_seconds": round(ran, 1),
        "command": this_command(),
        "build": build_command(sc),
        "gotraceback": env.get("GOTRACEBACK", ""),
        "files": ["debug2.txt"],
    }
    write(os.path.join(dest, "meta.json"), (json.dumps(meta, indent=2) + "\n").encode())
    return dest


def capture_one(sc: Scenario, binary: str, servers: Servers, out_root: str,
                workdir: str, ready_timeout: float, gover: str) -> str:
    scratch = tempfile.mkdtemp(prefix=f"{sc.name}-", dir=workdir)
    env = scenario_env(sc, servers, scratch)
    stdout_path = os.path.join(scratch, "stdout.log")
    stderr_path = os.path.join(scratch, "stderr.log")
    errf = open(stderr_path, "wb")
    log(f"starting {sc.family}/{sc.name}")
    proc = subprocess.Popen([binary], env=env, cwd=scratch, stdout=subprocess.PIPE,
                            stderr=errf, stdin=subprocess.DEVNULL, start_new_session=True)
    errf.close()
    lines: list[str] = []
    ready: list[re.Match] = []
    got = threading.Event()

    def reader() -> None:
        assert proc.stdout is not None
        with open(stdout_path, "w") as sink:
            for raw in proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                sink.write(line + "\n")
                sink.flush()
                lines.append(line)
                m = READY_RE.match(line)
                if m and not ready:
                    ready.append(m)
                    got.set()
        got.set()  # EOF: the program exited

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        started = time.monotonic()
        got.wait(ready_timeout)
        if not ready:
            status = proc.poll()
            why = (f"exited with status {status}" if status is not None
                   else f"did not print a READY line within {ready_timeout:.0f}s")
            with open(stderr_path, "rb") as f:
                tail = f.read()[-3000:].decode("utf-8", "replace")
            raise CaptureError(f"scenario {sc.family}/{sc.name} {why}.\n"
                               f"--- its stdout:\n" + "\n".join(lines[-20:]) +
                               f"\n--- its stderr (tail):\n{tail}")
        ready_after = time.monotonic() - started
        pprof, service = ready[0].group(1), ready[0].group(2)
        log(f"{sc.name} ready after {ready_after:.1f}s (pprof={pprof} service={service or '-'})")
        base = f"http://{pprof}/debug/pprof/goroutine"
        dest = fresh_dest(out_root, sc)

        ports = set(servers.ports(sc.servers).values())
        if service:
            ports.add(int(service.rsplit(":", 1)[1]))
        pids = descendants(proc.pid)
        files = []

        def save(rel: str, data: bytes) -> None:
            write(os.path.join(dest, rel), data)
            files.append(rel)

        save("ss.txt", socket_table(pids, ports).encode())
        save("debug2.txt", http_get(base + "?debug=2"))
        save("debug1.txt", http_get(base + "?debug=1"))
        pb = http_get(base)
        if pb[:2] != b"\x1f\x8b":
            raise CaptureError(f"{sc.name}: /debug/pprof/goroutine did not return gzip data")
        save("goroutine.pb.gz", pb)
        series_times = []
        for i in range(1, SERIES_COUNT + 1):
            if i > 1:
                time.sleep(SERIES_GAP_S)
            series_times.append(utc_now())
            save(f"series/{i:02d}.txt", http_get(base + "?debug=2"))
        if proc.poll() is not None:
            raise CaptureError(f"scenario {sc.name} exited during capture "
                               f"(status {proc.returncode})")

        meta = {
            "scenario": sc.name,
            "family": sc.family,
            "go_version": gover,
            "captured_at": series_times[0],
            "series_taken_at": series_times,
            "ready_after_seconds": round(ready_after, 1),
            "command": this_command(),
            "build": build_command(sc),
            "pprof": pprof,
            "service": service,
            "servers": {k: {"port": p, "version": servers.versions(sc.servers).get(k, "")}
                        for k, p in servers.ports(sc.servers).items()},
            "files": sorted(files),
        }
        write(os.path.join(dest, "meta.json"), (json.dumps(meta, indent=2) + "\n").encode())
        return dest
    finally:
        kill_group(proc)
        t.join(timeout=5)


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------- main


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", default=[], metavar="NAME",
                    help="capture only this scenario (repeatable, or comma-separated)")
    ap.add_argument("--family", help="capture only this family (a directory under scenarios/)")
    ap.add_argument("--out", default=DEFAULT_OUT,
                    help="output root; each scenario goes to OUT/<name>/ (default: %(default)s)")
    ap.add_argument("--ready-timeout", type=float, default=120.0, metavar="SECONDS",
                    help="how long to wait for a scenario's READY line (default: %(default)s)")
    ap.add_argument("--crash-timeout", type=float, default=60.0, metavar="SECONDS",
                    help="how long a \"capture\": \"crash\" scenario may run before it must "
                         "have crashed (default: %(default)s)")
    ap.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                    help="capture up to N scenarios that need no servers at the same time "
                         "(default: %(default)s; scenarios with servers always run one by one)")
    ap.add_argument("--keep-going", action="store_true",
                    help="after a failed scenario, go on with the others (exit 1 at the end)")
    ap.add_argument("--list", action="store_true", help="list the scenarios and exit")
    args = ap.parse_args(argv)
    if args.jobs < 1:
        ap.error("--jobs must be at least 1")
    only = [n for item in args.only for n in item.split(",") if n]

    try:
        scenarios = discover(args.family, only)
    except CaptureError as e:
        log(f"error: {e}")
        return 2
    if args.list:
        for sc in scenarios:
            kind = "healthy" if sc.expect.get("healthy") else sc.expect.get("top_kind")
            print(f"{sc.family}/{sc.name}\t{kind}\tservers={','.join(sc.servers) or '-'}")
        return 0

    out_root = os.path.abspath(args.out)
    os.makedirs(out_root, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="hangdoc-capture-")
    servers = Servers(workdir)
    failures: list[str] = []

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    stop = threading.Event()  # set after a failure without --keep-going
    lock = threading.Lock()

    def capture(sc: Scenario, bindir: str, gover: str) -> None:
        if stop.is_set():
            return
        try:
            binary = build(sc, bindir)
            if sc.capture == "crash":
                dest = capture_crash(sc, binary, servers, out_root, workdir,
                                     args.crash_timeout, gover)
            else:
                dest = capture_one(sc, binary, servers, out_root, workdir,
                                   args.ready_timeout, gover)
            log(f"{sc.name}: captured into {dest}")
            return
        except CaptureError as e:
            log(f"error: {e}")
        except (urllib.error.URLError, OSError) as e:
            log(f"error: {sc.name}: capture failed: {e}")
        with lock:
            failures.append(sc.name)
        if not args.keep_going:
            stop.set()

    started = time.monotonic()
    try:
        gover = go_version()
        bindir = os.path.join(workdir, "bin")
        os.makedirs(bindir)
        # Scenarios with servers share them and run one by one; the others may run in
        # parallel. Failures are reported in discovery order either way.
        alone = [sc for sc in scenarios if sc.servers or args.jobs == 1]
        parallel = [sc for sc in scenarios if sc not in alone]
        for sc in alone:
            capture(sc, bindir, gover)
        if parallel and not stop.is_set():
            pool = concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs)
            try:
                for fut in [pool.submit(capture, sc, bindir, gover) for sc in parallel]:
                    fut.result()
            finally:
                stop.set()  # on Ctrl-C, scenarios not yet started are skipped
                pool.shutdown(wait=True, cancel_futures=True)
    except CaptureError as e:
        log(f"error: {e}")
        failures.append("(setup)")
    except KeyboardInterrupt:
        log("interrupted; cleaning up")
        failures.append("(interrupted)")
    finally:
        servers.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    order = {sc.name: i for i, sc in enumerate(scenarios)}
    failures.sort(key=lambda n: order.get(n, -1))
    elapsed = time.monotonic() - started
    if failures:
        log(f"FAILED: {', '.join(failures)}")
        return 1
    log(f"ok: {len(scenarios)} scenario(s) captured into {out_root} in {elapsed:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

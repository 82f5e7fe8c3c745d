// Package harness holds what every classic scenario shares but that is not
// part of the service under test: the pprof listener, the single READY line
// of the scenario protocol, and the client load, which runs in a child
// process so that its goroutines never appear in the service's dumps.
//
// A scenario's main looks like this:
//
//	func main() {
//		if target, ok := harness.LoadgenTarget(); ok {
//			drive(target) // the client side, in the child process
//			return
//		}
//		pprofAddr := harness.ServePprof()
//		ln := harness.Listen()
//		... build the service ...
//		harness.StartLoad(ln.Addr().String())
//		go harness.Announce(pprofAddr, ln.Addr().String(), harness.Readiness{...})
//		log.Fatal(srv.Serve(ln))
//	}
package harness

import (
	"bytes"
	"fmt"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
	"os"
	"runtime"
	"strings"
	"time"
)

// ServePprof serves net/http/pprof on $HANGDOC_PPROF_ADDR (default
// 127.0.0.1:0) and returns the address it listens on. Services must use their
// own ServeMux so that only this listener exposes the profiles.
func ServePprof() string {
	addr := os.Getenv("HANGDOC_PPROF_ADDR")
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatalf("pprof listener: %v", err)
	}
	go func() {
		log.Printf("pprof server stopped: %v", http.Serve(ln, nil))
	}()
	return ln.Addr().String()
}

// Listen opens the service's own listener on a free loopback port.
func Listen() net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatalf("service listener: %v", err)
	}
	return ln
}

// Readiness says when a scenario's hang (or a healthy control's steady state)
// is fully in place.
type Readiness struct {
	// Until reports whether the hang is in place; it is polled every 100 ms
	// and must hold for Hold without interruption.
	Until func() bool
	// Hold is how long Until must keep holding (default 1 s).
	Hold time.Duration
}

// Announce waits for r, lets the runtime settle for 300 ms and prints the
// protocol's single line:
//
//	HANGDOC READY pprof=127.0.0.1:PORT service=127.0.0.1:PORT
//
// service may be empty. Run it in its own goroutine: it exits after printing,
// so it is gone by the time anyone takes a dump.
func Announce(pprofAddr, serviceAddr string, r Readiness) {
	hold := r.Hold
	if hold == 0 {
		hold = time.Second
	}
	var since time.Time
	for {
		if r.Until == nil || r.Until() {
			if since.IsZero() {
				since = time.Now()
			}
			if time.Since(since) >= hold {
				break
			}
		} else {
			since = time.Time{}
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	line := "HANGDOC READY pprof=" + pprofAddr
	if serviceAddr != "" {
		line += " service=" + serviceAddr
	}
	fmt.Fprintln(os.Stdout, line)
}

// Parked counts the goroutines that are blocked (not running, runnable or in
// a syscall) with fn, as the runtime prints it, on their stack. It is how a
// scenario knows its victims are in place; the service itself never calls it.
func Parked(fn string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, block := range bytes.Split(buf, []byte("\n\n")) {
		header, frames, ok := strings.Cut(string(block), "\n")
		if !ok || !strings.Contains(frames, fn+"(") {
			continue
		}
		open := strings.IndexByte(header, '[')
		if open < 0 {
			continue
		}
		state := header[open+1:]
		if i := strings.IndexAny(state, ",]"); i >= 0 {
			state = state[:i]
		}
		switch state {
		case "running", "runnable", "syscall":
		default:
			count++
		}
	}
	return count
}

// Package ops is the operational plumbing every service of this family shares: the debug
// listener that serves net/http/pprof, and the one-line start-up announcement
// ("HANGDOC READY pprof=... service=...") that tells the capture harness the service is in
// the state it should be captured in.
package ops

import (
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
	"os"
	"runtime"
	"time"
)

// StartDebugServer listens on $HANGDOC_PPROF_ADDR (default 127.0.0.1:0) and serves
// http.DefaultServeMux, which carries the pprof handlers. It returns the bound address.
func StartDebugServer() string {
	addr := os.Getenv("HANGDOC_PPROF_ADDR")
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		Fatalf("debug listener on %s: %v", addr, err)
	}
	srv := &http.Server{Handler: http.DefaultServeMux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // runs until the process exits
	return ln.Addr().String()
}

// Listen opens the service's own listener on a free loopback port.
func Listen() net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		Fatalf("service listener: %v", err)
	}
	return ln
}

// Fatalf reports a start-up failure on stderr and exits with status 3.
func Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "FATAL: "+format+"\n", args...)
	os.Exit(3)
}

// AnnounceReady waits in the background until ready() holds and the goroutine count has
// settled, then prints the READY line. If ready() does not hold within limit, the process
// exits with status 3 and says why on stderr.
func AnnounceReady(pprofAddr, serviceAddr string, limit time.Duration, ready func() bool) {
	AnnounceReadyThen(pprofAddr, serviceAddr, limit, ready, nil)
}

// AnnounceReadyThen is AnnounceReady, and calls then (when not nil) right after printing
// the READY line.
func AnnounceReadyThen(pprofAddr, serviceAddr string, limit time.Duration, ready func() bool, then func()) {
	go func() {
		deadline := time.Now().Add(limit)
		for !ready() {
			if time.Now().After(deadline) {
				Fatalf("the service did not reach its expected state within %v", limit)
			}
			time.Sleep(50 * time.Millisecond)
		}
		waitStable(15 * time.Second)
		time.Sleep(300 * time.Millisecond)
		line := "HANGDOC READY pprof=" + pprofAddr
		if serviceAddr != "" {
			line += " service=" + serviceAddr
		}
		fmt.Println(line)
		if then != nil {
			then()
		}
	}()
}

// HangAfter reads $HANG_AFTER (a Go duration such as "8s"): how long a scenario that
// supports it stays healthy after its READY line before it takes its bug path, so that a
// watcher sees it healthy first. Zero when unset: the scenario hangs as soon as it can.
func HangAfter() time.Duration {
	v := os.Getenv("HANG_AFTER")
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		Fatalf("HANG_AFTER=%q: not a duration (write e.g. 8s)", v)
	}
	return d
}

// waitStable returns once the goroutine count has moved by at most max(2, 2%) over the last
// second, or after limit (steady traffic never settles exactly).
func waitStable(limit time.Duration) {
	const samples = 6 // one second at 200 ms
	var window []int
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		window = append(window, runtime.NumGoroutine())
		if len(window) > samples {
			window = window[1:]
		}
		if len(window) == samples {
			lo, hi := window[0], window[0]
			for _, n := range window {
				lo, hi = min(lo, n), max(hi, n)
			}
			if hi-lo <= max(2, hi/50) {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
}

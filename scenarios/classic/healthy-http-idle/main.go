// Command healthy-http-idle is a product API that works as intended. Its
// clients keep connections alive between infrequent requests, so most of
// the time every connection's goroutine waits in IO wait for the next
// request, bounded by the server's idle timeout. A cache refresher runs on
// a ticker. Nothing is stuck.
package main

import (
	"log"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"hangdoc.test/scenarios/classic/internal/harness"
)

func main() {
	if target, ok := harness.LoadgenTarget(); ok {
		drive("http://" + target)
		return
	}
	pprofAddr := harness.ServePprof()
	ln := harness.Listen()

	catalog := newProductCache()
	go catalog.refreshLoop(30 * time.Second)
	api := &ProductAPI{products: catalog}
	var idle atomic.Int64
	srv := &http.Server{
		Handler:           api.routes(),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// Counts keep-alive idles, exported as a metric.
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateIdle {
				idle.Add(1)
			}
		},
	}

	harness.StartLoad(ln.Addr().String())
	go harness.Announce(pprofAddr, ln.Addr().String(), harness.Readiness{Until: func() bool {
		return idle.Load() >= 24 && harness.Parked("net/http.(*conn).serve") >= 24
	}})
	log.Fatal(srv.Serve(ln))
}

// Command chan-recv-leaked-workers is a reporting service. Each report is
// built by a few worker goroutines that range over a jobs channel; the
// request returns once every section is back but never closes the channel,
// so its workers wait in chan receive forever. Every request leaves three
// more behind.
package main

import (
	"log"
	"net/http"
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

	rates := &fxRates{}
	go rates.refreshLoop(30 * time.Second)
	builder := &ReportBuilder{parallelism: 3, rates: rates}
	api := &ReportsAPI{builder: builder}
	srv := &http.Server{Handler: api.routes(), ReadHeaderTimeout: 5 * time.Second}

	harness.StartLoad(ln.Addr().String())
	go harness.Announce(pprofAddr, ln.Addr().String(), harness.Readiness{
		Until: func() bool { return harness.Parked("main.(*ReportBuilder).renderWorker") >= 90 },
		Hold:  time.Millisecond,
	})
	log.Fatal(srv.Serve(ln))
}

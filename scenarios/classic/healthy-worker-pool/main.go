// Command healthy-worker-pool is a document-ingest service that works as
// intended: uploads land in a spool, a scanner moves them onto a buffered
// jobs channel, and sixteen workers checksum and store them. Most workers
// spend most of their time waiting briefly for the next job; a metrics
// ticker and an idle HTTP server run alongside. Nothing is stuck.
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

	p := NewPipeline(64)
	for i := range 16 {
		go p.worker(i)
	}
	go p.spoolScanner(20 * time.Millisecond)
	go p.metricsLoop(time.Second)
	api := &IngestAPI{pipeline: p}
	srv := &http.Server{Handler: api.routes(), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute}

	harness.StartLoad(ln.Addr().String())
	go harness.Announce(pprofAddr, ln.Addr().String(), harness.Readiness{Until: func() bool {
		return p.stored.Load() >= 300
	}})
	log.Fatal(srv.Serve(ln))
}

// Command cond-never-signaled is a search service that keeps its index in
// sync with the orders database through a change feed. The replicator pulls
// batches from the feed and hands them to applier goroutines through a queue
// guarded by a sync.Cond. When the feed breaks, the replicator logs and
// returns without closing the queue: the appliers wait on the Cond forever
// and the index silently goes stale, while search keeps answering.
package main

import (
	"context"
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

	index := newSearchIndex()
	repl := &Replicator{
		feed:     &changeFeed{batches: 25, latency: 20 * time.Millisecond},
		index:    index,
		queue:    newChangeQueue(),
		appliers: 6,
	}
	go repl.run(context.Background())

	api := &SearchAPI{index: index, repl: repl}
	srv := &http.Server{Handler: api.routes(), ReadHeaderTimeout: 5 * time.Second}

	harness.StartLoad(ln.Addr().String())
	go harness.Announce(pprofAddr, ln.Addr().String(), harness.Readiness{Until: func() bool {
		return repl.State() == "stopped" && harness.Parked("main.(*changeQueue).Pop") == 6
	}})
	log.Fatal(srv.Serve(ln))
}

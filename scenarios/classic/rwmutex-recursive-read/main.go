// Command rwmutex-recursive-read is a pricing service. A quote read-locks
// the catalog, asks the tax service for a rate, then looks up promotions
// through a helper that read-locks the catalog again. When the catalog
// reloader asks for the write lock in between, the second RLock waits behind
// the pending writer, the writer waits for the first RLock: the quote, the
// reloader and every later quote are stuck.
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

	feed := &priceFeed{}
	catalog := NewCatalog(&taxClient{latency: 80 * time.Millisecond})
	catalog.replace(feed.Load())
	go catalog.reloadLoop(feed, 200*time.Millisecond)

	api := &PricingAPI{catalog: catalog}
	srv := &http.Server{Handler: api.routes(), ReadHeaderTimeout: 5 * time.Second}

	harness.StartLoad(ln.Addr().String())
	go harness.Announce(pprofAddr, ln.Addr().String(), harness.Readiness{Until: func() bool {
		return harness.Parked("main.(*Catalog).replace") == 1 &&
			harness.Parked("main.(*Catalog).Quote") >= 8
	}})
	log.Fatal(srv.Serve(ln))
}

// Command ctx-ignored-send is a checkout service that shops for shipping
// rates. The carrier's SDK call has no context, so the rate lookup runs it
// in a goroutine and waits for the result or the request's time budget. When
// the budget wins, the handler falls back to a flat rate and returns; the
// goroutine later tries to send its result on the unbuffered channel nobody
// reads any more and stays blocked forever. Under load they pile up.
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

	shopper := &RateShopper{carrier: &carrierSDK{}, budget: 80 * time.Millisecond}
	go shopper.reportLoop(20 * time.Second)
	api := &CheckoutAPI{rates: shopper}
	srv := &http.Server{Handler: api.routes(), ReadHeaderTimeout: 5 * time.Second}

	harness.StartLoad(ln.Addr().String())
	go harness.Announce(pprofAddr, ln.Addr().String(), harness.Readiness{
		Until: func() bool { return harness.Parked("main.(*RateShopper).CheapestRate.func1") >= 150 },
		Hold:  time.Millisecond,
	})
	log.Fatal(srv.Serve(ln))
}

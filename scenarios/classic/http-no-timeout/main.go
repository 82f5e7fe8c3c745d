// Command http-no-timeout is an order service that verifies shipping
// addresses with a third-party API through an http.Client without a timeout
// and requests without a context deadline. The address API is having an
// outage: it accepts connections and never answers, so every order request
// waits in the HTTP transport's read for as long as the connection lives.
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

	upstream := startStalledUpstream()
	orders := &OrderService{addresses: NewAddressClient("http://" + upstream), orders: map[string]*Order{}}
	go orders.expireCarts(time.Minute)
	api := &OrdersAPI{orders: orders}
	srv := &http.Server{Handler: api.routes(), ReadHeaderTimeout: 5 * time.Second}

	harness.StartLoad(ln.Addr().String())
	go harness.Announce(pprofAddr, ln.Addr().String(), harness.Readiness{Until: func() bool {
		return harness.Parked("main.(*AddressClient).Verify") == 12
	}})
	log.Fatal(srv.Serve(ln))
}

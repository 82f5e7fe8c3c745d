// Command healthy-pubsub is a market-data fan-out that works as intended: a
// feed handler publishes trades, a broker hands each trade to the symbol's
// subscribers over buffered channels without ever blocking, and sixty
// subscribers wait in select for trades, a heartbeat tick or shutdown.
// Nothing is stuck.
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

	broker := NewBroker()
	symbols := []string{"AAPL", "MSFT", "NVDA", "AMZN", "TSLA", "ASML"}
	desks := []string{"vwap", "risk", "surveillance", "pnl", "algo-exec", "blotter", "tca", "hedger", "quote-check", "archive"}
	views := map[string]*Subscriber{}
	for _, sym := range symbols {
		for _, desk := range desks {
			s := NewSubscriber(desk+"/"+sym, 32)
			broker.Subscribe(sym, s)
			go s.run(500 * time.Millisecond)
			if desk == "vwap" {
				views[sym] = s
			}
		}
	}
	feed := &FeedHandler{broker: broker, symbols: symbols}
	go feed.run(2 * time.Millisecond)

	api := &MarketAPI{views: views}
	srv := &http.Server{Handler: api.routes(), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute}

	harness.StartLoad(ln.Addr().String())
	go harness.Announce(pprofAddr, ln.Addr().String(), harness.Readiness{Until: func() bool {
		return broker.delivered.Load() >= 20_000
	}})
	log.Fatal(srv.Serve(ln))
}

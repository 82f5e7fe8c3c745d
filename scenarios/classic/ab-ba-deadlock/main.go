// Command ab-ba-deadlock is a small payments ledger. A transfer locks the
// source account, asks the risk service for a verdict, then locks the
// destination: two opposite transfers between the same pair of accounts
// deadlock (AB-BA), and every later request touching either account queues
// behind them. Transfers between other accounts keep working.
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

	ledger := NewLedger(&riskClient{latency: 40 * time.Millisecond})
	for _, id := range []string{"acc-1001", "acc-2002", "acc-3003", "acc-4004", "acc-5005", "acc-6006"} {
		ledger.Open(id, 500_000)
	}
	stats := &Stats{}
	go stats.reportLoop(10 * time.Second)
	api := &API{ledger: ledger, stats: stats}
	srv := &http.Server{Handler: api.routes(), ReadHeaderTimeout: 5 * time.Second}

	harness.StartLoad(ln.Addr().String())
	go harness.Announce(pprofAddr, ln.Addr().String(), harness.Readiness{Until: func() bool {
		return harness.Parked("main.(*Ledger).settle") >= 6 &&
			harness.Parked("main.(*Account).Balance") >= 2 &&
			stats.transfers.Load() >= 5
	}})
	log.Fatal(srv.Serve(ln))
}

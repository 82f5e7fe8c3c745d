// A settlement reporting service: merchants fetch daily totals and recent payments over HTTP;
// everything comes from PostgreSQL through database/sql.
package main

import (
	"database/sql"
	"log"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	_ "github.com/lib/pq"

	"hangdoc.test/scenarios/incidents/internal/ops"
	"hangdoc.test/scenarios/incidents/internal/peer"
)

const maxOpenConns = 8

func main() {
	if peer.Serve(nil) {
		return
	}
	log.SetOutput(os.Stderr)
	pprofAddr := ops.StartDebugServer()

	dsn := os.Getenv("PG_DSN")
	if dsn == "" {
		ops.Fatalf("PG_DSN is not set")
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		ops.Fatalf("open database: %v", err)
	}
	db.SetMaxOpenConns(maxOpenConns)
	db.SetMaxIdleConns(maxOpenConns)
	db.SetConnMaxIdleTime(10 * time.Minute)
	if err := migrate(db); err != nil {
		ops.Fatalf("migrate: %v", err)
	}

	ledger := &LedgerStore{db: db}
	api := &ReportAPI{ledger: ledger}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/merchants/{id}/daily-totals", api.dailyTotals)
	mux.HandleFunc("GET /v2/merchants/{id}/payments", api.recentPayments)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	ln := ops.Listen()
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { log.Println(srv.Serve(ln)) }()
	go ledger.refreshStats(time.Second)

	base := "http://" + ln.Addr().String()
	if err := peer.StartLoad(
		peer.Job{URL: base + "/v2/merchants/{n}/daily-totals", Spread: 40, Concurrency: 20,
			TimeoutMS: 1000, IntervalMS: 20, MaxFailures: 160, TrickleMS: 500},
		peer.Job{URL: base + "/v2/merchants/{n}/payments", Spread: 40, Concurrency: 10,
			TimeoutMS: 1000, IntervalMS: 20, MaxFailures: 80},
	); err != nil {
		ops.Fatalf("load: %v", err)
	}
	ops.AnnounceReady(pprofAddr, ln.Addr().String(), 90*time.Second, func() bool {
		return ledger.scanErrors.Load() >= maxOpenConns && api.inflight.Load() >= 200
	})
	select {}
}

// ReportAPI serves the merchant reports.
type ReportAPI struct {
	ledger   *LedgerStore
	inflight atomic.Int64
}

func (a *ReportAPI) dailyTotals(w http.ResponseWriter, r *http.Request) {
	a.inflight.Add(1)
	defer a.inflight.Add(-1)
	totals, err := a.ledger.DailyTotals(r.PathValue("id"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, totals)
}

func (a *ReportAPI) recentPayments(w http.ResponseWriter, r *http.Request) {
	a.inflight.Add(1)
	defer a.inflight.Add(-1)
	payments, err := a.ledger.RecentPayments(r.PathValue("id"), 20)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, payments)
}

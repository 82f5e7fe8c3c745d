package main

import (
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"sync/atomic"
	"time"
)

// API is the ledger's HTTP interface.
type API struct {
	ledger *Ledger
	stats  *Stats
}

func (a *API) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /transfers", a.createTransfer)
	mux.HandleFunc("GET /accounts/{id}/balance", a.getBalance)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	return mux
}

type transferRequest struct {
	From        string `json:"from"`
	To          string `json:"to"`
	AmountCents int64  `json:"amount_cents"`
}

func (a *API) createTransfer(w http.ResponseWriter, r *http.Request) {
	var req transferRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, "bad transfer: "+err.Error(), http.StatusBadRequest)
		return
	}
	err := a.ledger.Transfer(r.Context(), req.From, req.To, req.AmountCents)
	switch {
	case errors.Is(err, ErrInsufficientFunds):
		http.Error(w, err.Error(), http.StatusConflict)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	a.stats.transfers.Add(1)
	w.WriteHeader(http.StatusCreated)
}

func (a *API) getBalance(w http.ResponseWriter, r *http.Request) {
	acc, err := a.ledger.Account(r.PathValue("id"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]int64{"balance_cents": acc.Balance()})
}

// Stats counts completed work and logs it periodically.
type Stats struct {
	transfers atomic.Int64
}

func (s *Stats) reportLoop(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for range t.C {
		log.Printf("ledger: %d transfers completed", s.transfers.Load())
	}
}

package main

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// PricingAPI is the pricing service's HTTP interface.
type PricingAPI struct {
	catalog *Catalog
}

func (a *PricingAPI) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /quotes/{sku}", a.quote)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	return mux
}

func (a *PricingAPI) quote(w http.ResponseWriter, r *http.Request) {
	qty, err := strconv.ParseInt(r.URL.Query().Get("qty"), 10, 64)
	if err != nil || qty < 1 {
		qty = 1
	}
	q, err := a.catalog.Quote(r.Context(), r.PathValue("sku"), qty)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	_ = json.NewEncoder(w).Encode(q)
}

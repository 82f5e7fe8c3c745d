package main

import (
	"encoding/json"
	"net/http"
)

// CheckoutAPI is the checkout service's HTTP interface.
type CheckoutAPI struct {
	rates *RateShopper
}

func (a *CheckoutAPI) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /checkout/shipping-rate", a.shippingRate)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	return mux
}

func (a *CheckoutAPI) shippingRate(w http.ResponseWriter, r *http.Request) {
	var sh Shipment
	if err := json.NewDecoder(r.Body).Decode(&sh); err != nil {
		http.Error(w, "bad shipment: "+err.Error(), http.StatusBadRequest)
		return
	}
	rate, err := a.rates.CheapestRate(r.Context(), sh)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	_ = json.NewEncoder(w).Encode(rate)
}

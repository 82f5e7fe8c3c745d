package main

import (
	"encoding/json"
	"net/http"
)

// OrdersAPI is the order service's HTTP interface.
type OrdersAPI struct {
	orders *OrderService
}

func (a *OrdersAPI) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders", a.place)
	mux.HandleFunc("GET /orders/{id}", a.get)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	return mux
}

func (a *OrdersAPI) place(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Customer string  `json:"customer"`
		ShipTo   Address `json:"ship_to"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, "bad order: "+err.Error(), http.StatusBadRequest)
		return
	}
	o, err := a.orders.PlaceOrder(req.Customer, req.ShipTo)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(o)
}

func (a *OrdersAPI) get(w http.ResponseWriter, r *http.Request) {
	o, ok := a.orders.Order(r.PathValue("id"))
	if !ok {
		http.Error(w, "no such order", http.StatusNotFound)
		return
	}
	_ = json.NewEncoder(w).Encode(o)
}

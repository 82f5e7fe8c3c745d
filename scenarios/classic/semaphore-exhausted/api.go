package main

import (
	"encoding/json"
	"net/http"
)

// InvoiceAPI is the invoice service's HTTP interface.
type InvoiceAPI struct {
	renderer *Renderer
}

func (a *InvoiceAPI) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /invoices/pdf", a.renderPDF)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	return mux
}

func (a *InvoiceAPI) renderPDF(w http.ResponseWriter, r *http.Request) {
	var inv Invoice
	if err := json.NewDecoder(r.Body).Decode(&inv); err != nil {
		http.Error(w, "bad invoice: "+err.Error(), http.StatusBadRequest)
		return
	}
	pdf, err := a.renderer.Render(r.Context(), inv)
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnprocessableEntity)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	_, _ = w.Write(pdf)
}

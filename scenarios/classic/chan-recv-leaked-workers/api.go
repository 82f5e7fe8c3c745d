package main

import (
	"encoding/json"
	"net/http"
)

// ReportsAPI is the reporting service's HTTP interface.
type ReportsAPI struct {
	builder *ReportBuilder
}

func (a *ReportsAPI) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /customers/{id}/reports/{month}", a.monthly)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	return mux
}

func (a *ReportsAPI) monthly(w http.ResponseWriter, r *http.Request) {
	report, err := a.builder.Build(r.Context(), r.PathValue("id"), r.PathValue("month"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	_ = json.NewEncoder(w).Encode(report)
}

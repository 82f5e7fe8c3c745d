package main

import (
	"encoding/json"
	"net/http"
)

// IngestAPI is the ingest service's HTTP interface.
type IngestAPI struct {
	pipeline *Pipeline
}

func (a *IngestAPI) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /tenants/{tenant}/uploads", a.upload)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	return mux
}

func (a *IngestAPI) upload(w http.ResponseWriter, r *http.Request) {
	var files []struct {
		Name string `json:"name"`
		Size int    `json:"size"`
	}
	if err := json.NewDecoder(r.Body).Decode(&files); err != nil {
		http.Error(w, "bad upload list: "+err.Error(), http.StatusBadRequest)
		return
	}
	jobs := make([]Job, 0, len(files))
	for _, f := range files {
		jobs = append(jobs, Job{Tenant: r.PathValue("tenant"), Name: f.Name, Size: min(max(f.Size, 0), 32<<10)})
	}
	a.pipeline.Enqueue(jobs...)
	w.WriteHeader(http.StatusAccepted)
}

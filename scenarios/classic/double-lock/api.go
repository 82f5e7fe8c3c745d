package main

import (
	"encoding/json"
	"net/http"
)

// AuthAPI is the session service's HTTP interface.
type AuthAPI struct {
	sessions *SessionStore
}

func (a *AuthAPI) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /sessions", a.login)
	mux.HandleFunc("GET /sessions/{id}", a.lookup)
	mux.HandleFunc("DELETE /sessions/{id}", a.logout)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	return mux
}

func (a *AuthAPI) login(w http.ResponseWriter, r *http.Request) {
	var req struct {
		UserID string `json:"user_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.UserID == "" {
		http.Error(w, "user_id required", http.StatusBadRequest)
		return
	}
	sess := a.sessions.Put(req.UserID)
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]string{"session_id": sess.ID})
}

func (a *AuthAPI) lookup(w http.ResponseWriter, r *http.Request) {
	sess, ok := a.sessions.Get(r.PathValue("id"))
	if !ok {
		http.Error(w, "no such session", http.StatusUnauthorized)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"user_id": sess.UserID})
}

func (a *AuthAPI) logout(w http.ResponseWriter, r *http.Request) {
	a.sessions.Delete(r.PathValue("id"))
	w.WriteHeader(http.StatusNoContent)
}

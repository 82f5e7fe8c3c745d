package main

import (
	"encoding/json"
	"net/http"
)

// PushAPI is the push service's HTTP interface.
type PushAPI struct {
	registry *PushRegistry
	sender   *pushSender
}

func (a *PushAPI) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /devices/{id}", a.register)
	mux.HandleFunc("POST /devices/{id}/notifications", a.notify)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	return mux
}

func (a *PushAPI) register(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Platform string `json:"platform"`
		Token    string `json:"token"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Token == "" {
		http.Error(w, "platform and token required", http.StatusBadRequest)
		return
	}
	a.registry.Register(r.PathValue("id"), req.Platform, req.Token)
	w.WriteHeader(http.StatusNoContent)
}

func (a *PushAPI) notify(w http.ResponseWriter, r *http.Request) {
	var n Notification
	if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
		http.Error(w, "bad notification: "+err.Error(), http.StatusBadRequest)
		return
	}
	n.DeviceID = r.PathValue("id")
	select {
	case a.sender.queue <- n:
		w.WriteHeader(http.StatusAccepted)
	default:
		http.Error(w, "queue full", http.StatusServiceUnavailable)
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"hangdoc.test/scenarios/classic/internal/harness"
)

// drive logs a few users in, looks their sessions up for a while, then
// looks up the stale session; after that logins and lookups hang, while the
// health check keeps being polled.
func drive(base string) {
	quick := harness.Client(5 * time.Second)
	var ids []string
	for i := range 4 {
		body := fmt.Sprintf(`{"user_id":"u-%d"}`, 2000+i)
		resp, err := quick.Post(base+"/sessions", "application/json", strings.NewReader(body))
		if err != nil {
			continue
		}
		var out struct {
			SessionID string `json:"session_id"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&out)
		_ = resp.Body.Close()
		ids = append(ids, out.SessionID)
	}
	for range 3 {
		for _, id := range ids {
			harness.Call(quick, http.MethodGet, base+"/sessions/"+id, nil)
		}
	}

	patient := harness.Client(0)
	go harness.Call(patient, http.MethodGet, base+"/sessions/sess-7f3a9c", nil)
	time.Sleep(200 * time.Millisecond)
	for _, id := range ids {
		go harness.Call(patient, http.MethodGet, base+"/sessions/"+id, nil)
	}
	for i := range 2 {
		body := fmt.Sprintf(`{"user_id":"u-%d"}`, 3000+i)
		go harness.Call(patient, http.MethodPost, base+"/sessions", strings.NewReader(body))
	}
	for {
		harness.Call(quick, http.MethodGet, base+"/healthz", nil)
		time.Sleep(300 * time.Millisecond)
	}
}

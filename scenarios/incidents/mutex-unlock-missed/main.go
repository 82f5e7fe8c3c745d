// A live-score push service: clients follow matches over HTTP, a feed consumer publishes score
// updates, and one writer goroutine per follower delivers them. ScoreHub guards all of it with
// one mutex.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"hangdoc.test/scenarios/incidents/internal/ops"
	"hangdoc.test/scenarios/incidents/internal/peer"
)

func main() {
	if peer.Serve(nil) {
		return
	}
	log.SetOutput(os.Stderr)
	pprofAddr := ops.StartDebugServer()

	// With HANG_AFTER the service starts healthy: no match is archived until then, and
	// then one client follows an archived match.
	hangAfter := ops.HangAfter()
	archived := archivedMatches()
	if hangAfter > 0 {
		archived = map[string]bool{}
	}
	hub := NewScoreHub(archived)
	go hub.expireLoop(500 * time.Millisecond)

	feed := &FeedConsumer{hub: hub, updates: make(chan ScoreUpdate, 256)}
	go feed.produce(20 * time.Millisecond)
	go feed.run()

	api := &API{hub: hub}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/follow", api.follow)
	mux.HandleFunc("GET /v1/scores", api.scores)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	ln := ops.Listen()
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { log.Println(srv.Serve(ln)) }()

	base := "http://" + ln.Addr().String()
	if err := peer.StartLoad(
		peer.Job{URL: base + "/v1/follow?client=c{n}&match={n}", Spread: 40, Concurrency: 30,
			TimeoutMS: 3000, IntervalMS: 10, MaxRequests: 220, TrickleMS: 500},
		peer.Job{URL: base + "/v1/scores?match={n}", Spread: 40, Concurrency: 6,
			TimeoutMS: 3000, IntervalMS: 50, MaxRequests: 60},
		peer.Job{URL: base + "/healthz", Concurrency: 1, TimeoutMS: 1000, IntervalMS: 500},
	); err != nil {
		ops.Fatalf("load: %v", err)
	}

	if hangAfter > 0 {
		ops.AnnounceReadyThen(pprofAddr, ln.Addr().String(), 90*time.Second, func() bool {
			return api.followed.Load() >= 100
		}, func() {
			time.Sleep(hangAfter)
			hub.mu.Lock()
			hub.archived = archivedMatches()
			hub.mu.Unlock()
			client := &http.Client{Timeout: 3 * time.Second}
			if resp, err := client.Get(base + "/v1/follow?client=late&match=13"); err == nil {
				resp.Body.Close()
			}
		})
		select {}
	}
	ops.AnnounceReady(pprofAddr, ln.Addr().String(), 90*time.Second, func() bool {
		return api.rejected.Load() > 0 && api.inflight.Load() >= 150
	})
	select {}
}

// API serves the follow and score endpoints.
type API struct {
	hub      *ScoreHub
	inflight atomic.Int64
	rejected atomic.Int64
	followed atomic.Int64
}

func (a *API) follow(w http.ResponseWriter, r *http.Request) {
	a.inflight.Add(1)
	defer a.inflight.Add(-1)
	match := r.URL.Query().Get("match")
	if err := a.hub.Follow(r.URL.Query().Get("client"), match); err != nil {
		a.rejected.Add(1)
		log.Printf("follow match %s: %v", match, err)
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	a.followed.Add(1)
	fmt.Fprintln(w, "following", match)
}

func (a *API) scores(w http.ResponseWriter, r *http.Request) {
	a.inflight.Add(1)
	defer a.inflight.Add(-1)
	fmt.Fprintln(w, a.hub.Board(r.URL.Query().Get("match")))
}

func archivedMatches() map[string]bool {
	// Matches whose data moved to cold storage; following them fails.
	return map[string]bool{"13": true}
}

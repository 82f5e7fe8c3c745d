// A notification gateway: mobile clients hold a long-lived stream connection; while a stream
// is open, a per-session loop redelivers the user's unacknowledged messages from redis.
// Clients also report presence with short requests.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gomodule/redigo/redis"

	"hangdoc.test/scenarios/incidents/internal/ops"
	"hangdoc.test/scenarios/incidents/internal/peer"
)

const maxActive = 20

func main() {
	if peer.Serve(nil) {
		return
	}
	log.SetOutput(os.Stderr)
	pprofAddr := ops.StartDebugServer()
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		ops.Fatalf("REDIS_ADDR is not set")
	}
	pool := &redis.Pool{
		MaxIdle:     maxActive,
		MaxActive:   maxActive,
		Wait:        true,
		IdleTimeout: 240 * time.Second,
		Dial: func() (redis.Conn, error) {
			return redis.Dial("tcp", addr,
				redis.DialConnectTimeout(5*time.Second),
				redis.DialReadTimeout(5*time.Second),
				redis.DialWriteTimeout(5*time.Second))
		},
		TestOnBorrow: func(c redis.Conn, t time.Time) error {
			if time.Since(t) < time.Minute {
				return nil
			}
			_, err := c.Do("PING")
			return err
		},
	}
	inbox := &InboxStore{pool: pool}
	if err := inbox.seed(200, 12); err != nil {
		ops.Fatalf("seed redis: %v", err)
	}
	presence := &PresenceStore{pool: pool}
	gw := &Gateway{inbox: inbox, presence: presence}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/stream", gw.stream)
	mux.HandleFunc("POST /v1/presence", gw.touch)
	ln := ops.Listen()
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { log.Println(srv.Serve(ln)) }()

	base := "http://" + ln.Addr().String()
	if err := peer.StartLoad(
		peer.Job{URL: base + "/v1/stream?user=u{n}", Spread: 200, Concurrency: 32, Stream: true},
		peer.Job{URL: base + "/v1/presence?user=u{n}", Method: http.MethodPost, Spread: 200,
			Concurrency: 12, TimeoutMS: 1000, IntervalMS: 50, MaxFailures: 150, TrickleMS: 500},
	); err != nil {
		ops.Fatalf("load: %v", err)
	}
	ops.AnnounceReady(pprofAddr, ln.Addr().String(), 90*time.Second, func() bool {
		st := pool.Stats()
		return st.ActiveCount == maxActive && st.IdleCount == 0 && gw.presenceWaiting.Load() >= 100
	})
	select {}
}

// Gateway serves the client-facing endpoints.
type Gateway struct {
	inbox           *InboxStore
	presence        *PresenceStore
	presenceWaiting atomic.Int64
}

// stream holds a client's long-lived connection: a session loop redelivers pending
// messages while the handler keeps the connection alive with pings.
func (g *Gateway) stream(w http.ResponseWriter, r *http.Request) {
	sess := &Session{user: r.URL.Query().Get("user"), inbox: g.inbox, out: make(chan string, 16), done: make(chan struct{})}
	defer close(sess.done)
	go sess.redeliverLoop()
	flusher, _ := w.(http.Flusher)
	ping := time.NewTicker(time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case msg := <-sess.out:
			fmt.Fprintf(w, "data: %s\n\n", msg)
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
}

func (g *Gateway) touch(w http.ResponseWriter, r *http.Request) {
	g.presenceWaiting.Add(1)
	defer g.presenceWaiting.Add(-1)
	if err := g.presence.Touch(r.URL.Query().Get("user")); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Session is one client's open stream.
type Session struct {
	user  string
	inbox *InboxStore
	out   chan string
	done  chan struct{}
}

func (s *Session) redeliverLoop() {
	for {
		select {
		case <-s.done:
			return
		default:
		}
		msgs, err := s.inbox.ListUnacked(s.user)
		if err != nil {
			log.Printf("redeliver %s: %v", s.user, err)
		}
		for _, m := range msgs {
			select {
			case s.out <- m:
			case <-s.done:
				return
			}
		}
		time.Sleep(time.Duration(5+len(s.user)%5) * time.Millisecond)
	}
}

// PresenceStore records when users were last seen.
type PresenceStore struct{ pool *redis.Pool }

// Touch marks a user online.
func (p *PresenceStore) Touch(user string) error {
	c := p.pool.Get()
	defer c.Close()
	_, err := c.Do("SET", "presence:"+user, strconv.FormatInt(time.Now().Unix(), 10), "EX", 120)
	return err
}

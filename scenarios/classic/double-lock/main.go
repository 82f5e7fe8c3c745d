// Command double-lock is the session service of a web app. Looking up a
// session that has expired deletes it, but the lookup already holds the
// store's mutex and Delete locks it again: sync.Mutex is not reentrant, so
// the goroutine blocks on itself and every later login or lookup queues
// behind it. The health check keeps answering.
package main

import (
	"log"
	"net/http"
	"time"

	"hangdoc.test/scenarios/classic/internal/harness"
)

func main() {
	if target, ok := harness.LoadgenTarget(); ok {
		drive("http://" + target)
		return
	}
	pprofAddr := harness.ServePprof()
	ln := harness.Listen()

	store := NewSessionStore(30 * time.Minute)
	// A session left over from yesterday: the first lookup finds it expired.
	store.items["sess-7f3a9c"] = &Session{ID: "sess-7f3a9c", UserID: "u-1042", ExpiresAt: time.Now().Add(-20 * time.Hour)}
	go store.janitor(time.Minute)

	api := &AuthAPI{sessions: store}
	srv := &http.Server{Handler: api.routes(), ReadHeaderTimeout: 5 * time.Second}

	harness.StartLoad(ln.Addr().String())
	go harness.Announce(pprofAddr, ln.Addr().String(), harness.Readiness{Until: func() bool {
		return harness.Parked("main.(*SessionStore).Delete") == 1 &&
			harness.Parked("main.(*SessionStore).Get") >= 5 &&
			harness.Parked("main.(*SessionStore).Put") >= 2
	}})
	log.Fatal(srv.Serve(ln))
}

// Command chan-under-lock is the chat backend of an incident-response tool.
// Publishing a message locks the room and hands the message to each
// member's delivery goroutine over an unbuffered channel. A delivery
// goroutine, after writing a message out, locks the room to record its
// progress. When a second message is published before that bookkeeping
// runs, the publisher holds the room lock while it waits for a member that
// is itself waiting for the room lock; the room never recovers.
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

	hub := NewHub()
	room := hub.Room("incident-42")
	for _, name := range []string{"oncall-primary", "oncall-secondary", "status-page-bot", "pager-bridge", "audit-log"} {
		room.Join(name)
	}
	go hub.presenceLoop(15 * time.Second)
	api := &ChatAPI{hub: hub}
	srv := &http.Server{Handler: api.routes(), ReadHeaderTimeout: 5 * time.Second}

	harness.StartLoad(ln.Addr().String())
	go harness.Announce(pprofAddr, ln.Addr().String(), harness.Readiness{Until: func() bool {
		return harness.Parked("main.(*Room).Publish") >= 3 &&
			harness.Parked("main.(*Room).markDelivered") >= 1 &&
			harness.Parked("main.(*Room).Members") >= 1
	}})
	log.Fatal(srv.Serve(ln))
}

// Command goroutine-growth is a push-notification service. Registering a
// device starts a goroutine that waits for the device's token to be
// rotated or the registration to be cancelled; neither ever happens for
// most devices, and re-registering the same device starts another one. The
// service works fine, but every registration leaves a goroutine behind.
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

	registry := NewPushRegistry()
	sender := &pushSender{registry: registry, queue: make(chan Notification, 256)}
	for range 4 {
		go sender.worker()
	}
	go registry.statsLoop(30 * time.Second)
	api := &PushAPI{registry: registry, sender: sender}
	srv := &http.Server{Handler: api.routes(), ReadHeaderTimeout: 5 * time.Second}

	harness.StartLoad(ln.Addr().String())
	go harness.Announce(pprofAddr, ln.Addr().String(), harness.Readiness{
		Until: func() bool { return harness.Parked("main.(*PushRegistry).watchToken") >= 60 },
		Hold:  time.Millisecond,
	})
	log.Fatal(srv.Serve(ln))
}

package main

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"hangdoc.test/scenarios/classic/internal/harness"
)

// drive is three responders posting updates as fast as the room takes them
// (they wait as long as it takes), someone opening the member list, and the
// health check.
func drive(base string) {
	for i, who := range []string{"alice", "bob", "carol"} {
		go func() {
			c := harness.Client(0)
			for n := 0; ; n++ {
				body := fmt.Sprintf(`{"author":%q,"text":"update %d: checking db-%d replication lag"}`, who, n, i)
				harness.Call(c, http.MethodPost, base+"/rooms/incident-42/messages", strings.NewReader(body))
			}
		}()
	}
	go func() {
		time.Sleep(time.Second)
		harness.Call(harness.Client(0), http.MethodGet, base+"/rooms/incident-42/members", nil)
	}()
	quick := harness.Client(5 * time.Second)
	for {
		harness.Call(quick, http.MethodGet, base+"/healthz", nil)
		time.Sleep(300 * time.Millisecond)
	}
}

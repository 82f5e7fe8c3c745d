package main

import (
	"net/http"
	"time"

	"hangdoc.test/scenarios/classic/internal/harness"
)

// drive asks for the two albums with a broken photo once each (and waits
// for them), and keeps three users rendering the healthy albums.
func drive(base string) {
	patient := harness.Client(0)
	for _, id := range []string{"alb-2019-import", "alb-scans-1998"} {
		go harness.Call(patient, http.MethodPost, base+"/albums/"+id+"/thumbnails", nil)
	}
	healthy := []string{"alb-summer-2024", "alb-wedding", "alb-office-party"}
	for i := range 3 {
		go func() {
			c := harness.Client(10 * time.Second)
			for n := i; ; n++ {
				harness.Call(c, http.MethodPost, base+"/albums/"+healthy[n%len(healthy)]+"/thumbnails", nil)
				time.Sleep(100 * time.Millisecond)
			}
		}()
	}
	harness.Forever()
}

package main

import (
	"net/http"
	"time"

	"hangdoc.test/scenarios/classic/internal/harness"
)

// drive searches steadily and polls the replication status.
func drive(base string) {
	c := harness.Client(5 * time.Second)
	words := []string{"espresso", "grinder", "mug", "descaler"}
	for n := 0; ; n++ {
		harness.Call(c, http.MethodGet, base+"/search?q="+words[n%len(words)], nil)
		if n%10 == 0 {
			harness.Call(c, http.MethodGet, base+"/replication", nil)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

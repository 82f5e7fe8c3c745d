package main

import (
	"net/http"
	"time"

	"hangdoc.test/scenarios/classic/internal/harness"
)

// drive is a dashboard polling the VWAP of each symbol.
func drive(base string) {
	c := harness.Client(5 * time.Second)
	symbols := []string{"AAPL", "MSFT", "NVDA", "AMZN", "TSLA", "ASML"}
	for n := 0; ; n++ {
		harness.Call(c, http.MethodGet, base+"/symbols/"+symbols[n%len(symbols)]+"/vwap", nil)
		time.Sleep(200 * time.Millisecond)
	}
}

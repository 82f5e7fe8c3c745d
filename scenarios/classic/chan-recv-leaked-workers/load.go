package main

import (
	"fmt"
	"net/http"
	"time"

	"hangdoc.test/scenarios/classic/internal/harness"
)

// drive asks for a monthly report four times a second, as a dashboard would.
func drive(base string) {
	c := harness.Client(5 * time.Second)
	for n := 0; ; n++ {
		url := fmt.Sprintf("%s/customers/cus-%03d/reports/2026-%02d", base, 100+n%17, 1+n%12)
		harness.Call(c, http.MethodGet, url, nil)
		time.Sleep(250 * time.Millisecond)
	}
}

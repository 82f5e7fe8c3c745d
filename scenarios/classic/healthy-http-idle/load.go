package main

import (
	"fmt"
	"net/http"
	"time"

	"hangdoc.test/scenarios/classic/internal/harness"
)

// drive is twenty-four storefront instances, each with its own keep-alive
// connection, asking for a product every ten seconds or so.
func drive(base string) {
	for i := range 24 {
		go func() {
			c := harness.Client(5 * time.Second)
			time.Sleep(time.Duration(i) * 20 * time.Millisecond)
			for n := i; ; n += 24 {
				harness.Call(c, http.MethodGet, fmt.Sprintf("%s/api/v1/products/p-%04d", base, n%200), nil)
				time.Sleep(time.Duration(9000+i*100) * time.Millisecond)
			}
		}()
	}
	harness.Forever()
}

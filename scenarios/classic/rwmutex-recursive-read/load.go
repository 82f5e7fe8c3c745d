package main

import (
	"fmt"
	"net/http"
	"time"

	"hangdoc.test/scenarios/classic/internal/harness"
)

// drive keeps five shoppers asking for quotes back to back (they wait as
// long as it takes), sends three more quotes later, and polls the health
// check.
func drive(base string) {
	skus := []string{"sku-kettle-1l", "sku-toaster-2s", "sku-desk-lamp", "sku-usb-cable"}
	for i := range 5 {
		go func() {
			c := harness.Client(0)
			for n := i; ; n++ {
				harness.Call(c, http.MethodGet, fmt.Sprintf("%s/quotes/%s?qty=%d", base, skus[n%len(skus)], 1+n%3), nil)
			}
		}()
	}
	// Shoppers who arrive after the hang queue at Quote's first RLock.
	go func() {
		time.Sleep(2 * time.Second)
		late := harness.Client(0)
		for _, sku := range skus[:3] {
			go harness.Call(late, http.MethodGet, base+"/quotes/"+sku+"?qty=1", nil)
		}
	}()
	quick := harness.Client(5 * time.Second)
	for {
		harness.Call(quick, http.MethodGet, base+"/healthz", nil)
		time.Sleep(300 * time.Millisecond)
	}
}

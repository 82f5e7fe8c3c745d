package main

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"hangdoc.test/scenarios/classic/internal/harness"
)

// drive places twelve orders at once (the shoppers wait as long as it
// takes), then keeps looking orders up and polling the health check.
func drive(base string) {
	patient := harness.Client(0)
	for i := range 12 {
		body := fmt.Sprintf(`{"customer":"cus-%03d","ship_to":{"line1":"%d Elm Street","city":"Springfield","zip":"%05d","country":"US"}}`, 400+i, 10+i, 62701+i)
		go harness.Call(patient, http.MethodPost, base+"/orders", strings.NewReader(body))
	}
	quick := harness.Client(5 * time.Second)
	for n := 0; ; n++ {
		harness.Call(quick, http.MethodGet, fmt.Sprintf("%s/orders/ord-%06d", base, 1+n%50), nil)
		harness.Call(quick, http.MethodGet, base+"/healthz", nil)
		time.Sleep(300 * time.Millisecond)
	}
}

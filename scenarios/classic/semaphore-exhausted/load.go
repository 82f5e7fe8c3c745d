package main

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"hangdoc.test/scenarios/classic/internal/harness"
)

// drive is six billing jobs rendering invoices back to back (waiting as
// long as it takes); one invoice in five names a template that was renamed.
// The health check is polled on the side.
func drive(base string) {
	for i := range 6 {
		go func() {
			c := harness.Client(0)
			for n := i; ; n += 6 {
				tmpl := "standard-2024"
				if n%5 == 4 {
					tmpl = "standard-2023"
				}
				body := fmt.Sprintf(`{"number":"INV-%05d","customer":"cus-%03d","template":%q,"lines":[{"item":"Support plan","cents":%d}]}`, 10000+n, n%40, tmpl, 4900+n)
				harness.Call(c, http.MethodPost, base+"/invoices/pdf", strings.NewReader(body))
			}
		}()
	}
	quick := harness.Client(5 * time.Second)
	for {
		harness.Call(quick, http.MethodGet, base+"/healthz", nil)
		time.Sleep(300 * time.Millisecond)
	}
}

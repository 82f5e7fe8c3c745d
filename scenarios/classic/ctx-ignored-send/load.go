package main

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"hangdoc.test/scenarios/classic/internal/harness"
)

// drive is four checkout pages asking for shipping rates, about thirty
// requests a second in all.
func drive(base string) {
	for i := range 4 {
		go func() {
			c := harness.Client(5 * time.Second)
			for n := i * 1000; ; n++ {
				body := fmt.Sprintf(`{"from_zip":"10115","to_zip":"%05d","weight_g":%d,"priority":%t}`, 20000+n*37%70000, 200+n%3000, n%5 == 0)
				harness.Call(c, http.MethodPost, base+"/checkout/shipping-rate", strings.NewReader(body))
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	harness.Forever()
}

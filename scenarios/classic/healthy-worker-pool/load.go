package main

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"hangdoc.test/scenarios/classic/internal/harness"
)

// drive uploads batches of twenty documents ten times a second for a few
// tenants.
func drive(base string) {
	c := harness.Client(5 * time.Second)
	tenants := []string{"acme", "globex", "initech"}
	for n := 0; ; n++ {
		var b strings.Builder
		b.WriteString("[")
		for i := range 20 {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"name":"scan-%06d-%02d.pdf","size":%d}`, n, i, 4096+(n*i*97)%28000)
		}
		b.WriteString("]")
		harness.Call(c, http.MethodPost, base+"/tenants/"+tenants[n%len(tenants)]+"/uploads", strings.NewReader(b.String()))
		time.Sleep(100 * time.Millisecond)
	}
}

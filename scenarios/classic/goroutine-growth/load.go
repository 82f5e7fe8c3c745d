package main

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"hangdoc.test/scenarios/classic/internal/harness"
)

// drive is the app's clients re-registering on every launch (about eight a
// second, over a few hundred devices) and the marketing system sending
// notifications.
func drive(base string) {
	c := harness.Client(5 * time.Second)
	for n := 0; ; n++ {
		dev := fmt.Sprintf("dev-%04d", n*7%300)
		platform := "ios"
		if n%3 == 0 {
			platform = "android"
		}
		body := fmt.Sprintf(`{"platform":%q,"token":"tok-%08x"}`, platform, n*2654435761)
		harness.Call(c, http.MethodPut, base+"/devices/"+dev, strings.NewReader(body))
		if n%2 == 0 {
			harness.Call(c, http.MethodPost, base+"/devices/"+dev+"/notifications", strings.NewReader(`{"title":"Your order shipped","body":"Track it in the app"}`))
		}
		time.Sleep(125 * time.Millisecond)
	}
}

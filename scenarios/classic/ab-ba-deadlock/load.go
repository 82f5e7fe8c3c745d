package main

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"hangdoc.test/scenarios/classic/internal/harness"
)

// drive is the client side: two opposite transfers between acc-1001 and
// acc-2002 at the same moment, then requests that touch those accounts,
// then steady healthy traffic between other accounts.
func drive(base string) {
	patient := harness.Client(0)
	transfer := func(from, to string, cents int) {
		body := fmt.Sprintf(`{"from":%q,"to":%q,"amount_cents":%d}`, from, to, cents)
		harness.Call(patient, "POST", base+"/transfers", strings.NewReader(body))
	}

	var start sync.WaitGroup
	start.Add(1)
	for _, pair := range [][2]string{{"acc-1001", "acc-2002"}, {"acc-2002", "acc-1001"}} {
		go func() {
			start.Wait()
			transfer(pair[0], pair[1], 1250)
		}()
	}
	start.Done()
	time.Sleep(300 * time.Millisecond)

	for _, from := range []string{"acc-3003", "acc-4004"} {
		go transfer(from, "acc-1001", 900)
		go transfer(from, "acc-2002", 700)
	}
	go harness.Call(patient, "GET", base+"/accounts/acc-1001/balance", nil)
	go harness.Call(patient, "GET", base+"/accounts/acc-2002/balance", nil)
	time.Sleep(200 * time.Millisecond)

	quick := harness.Client(5 * time.Second)
	for i := 0; ; i++ {
		from, to := "acc-5005", "acc-6006"
		if i%2 == 1 {
			from, to = to, from
		}
		body := fmt.Sprintf(`{"from":%q,"to":%q,"amount_cents":%d}`, from, to, 100+i%50)
		harness.Call(quick, "POST", base+"/transfers", strings.NewReader(body))
		harness.Call(quick, "GET", base+"/accounts/"+to+"/balance", nil)
		harness.Call(quick, "GET", base+"/healthz", nil)
		time.Sleep(250 * time.Millisecond)
	}
}

package main

import (
	"context"
	"fmt"
	"runtime/pprof"

	"hangdoc/scenarios/formats/internal/expect"
)

// leakyWorker blocks on a channel that only it knows: nothing can ever send, and the
// goroutine-leak check can prove it.
//
//go:noinline
func leakyWorker() {
	ch := make(chan int)
	<-ch
}

//go:noinline
func labelledLeaker() {
	ch := make(chan string)
	<-ch
}

// spawnLeakers adds the goroutines that leak by construction.
//
//go:noinline
func spawnLeakers(p *population) {
	startN(2, leakyWorker)
	p.add(expect.Category{Function: "main.leakyWorker", Count: 2, State: "chan receive", CreatedBy: "main.startN", Leaked: true})
	go pprof.Do(context.Background(), pprof.Labels("worker", "w1"), func(context.Context) { labelledLeaker() })
	w1 := map[string]string{"worker": "w1"}
	p.add(expect.Category{Function: "main.labelledLeaker", Count: 1, State: "chan receive", Labels: &w1, CreatedBy: "main.spawnLeakers", Leaked: true})
	// Waits on a nil channel or an empty select can never end: the check reports them too.
	for i := range p.cats {
		switch p.cats[i].State {
		case "chan receive (nil chan)", "chan send (nil chan)", "select (no cases)":
			p.cats[i].Leaked = true
		}
	}
}

// writeLeakProfiles writes the goroutineleak profile at debug=2 (every goroutine, leaked
// ones marked), debug=1 and debug=0 (only the leaked ones).
//
//go:noinline
func writeLeakProfiles(p *population) {
	self := expect.Category{Function: "main.writeLeakProfiles", Count: 1, State: "running"}
	notes := "pprof.Lookup(\"goroutineleak\").WriteTo(f, %d) from the zoo itself%s"
	emit(path("leak", "-debug2.txt"), 2, true)
	e := traceback(p, self, "goroutine-debug2", true, fmt.Sprintf(notes, 2, "; every goroutine, the leaked ones marked (leaked)"))
	save(path("leak", "-debug2.txt"), e)

	leaked := &population{}
	for _, c := range p.cats {
		if c.Leaked {
			leaked.add(c)
		}
	}
	e = aggregated(leaked, self, "goroutineleak-debug1", false, fmt.Sprintf(notes, 1, "; only the leaked goroutines"))
	e.Categories, e.Goroutines = e.Categories[1:], leaked.started // the writer is not leaked
	emit(path("leak", "-debug1.txt"), 1, true)
	save(path("leak", "-debug1.txt"), e)

	e = aggregated(leaked, self, "pprof-proto", true, fmt.Sprintf(notes, 0, "; only the leaked goroutines, sample type goroutineleak"))
	e.Categories, e.Goroutines = e.Categories[1:], leaked.started
	emit(path("leak", ".pb.gz"), 0, true)
	gunzipCheck(path("leak", ".pb.gz"))
	save(path("leak", ".pb.gz"), e)
}

// Package hangtest holds a test that hangs, so that `go test -timeout 2s` stops it with
// "panic: test timed out after 2s" and prints every goroutine. Before hanging, the test
// writes the *.expect.json for the captured output to $HANGDOC_EXPECT (when set).
package hangtest

import (
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"hangdoc/scenarios/formats/internal/expect"
)

var (
	mu sync.Mutex
	ch = make(chan int)
)

//go:noinline
func hangOnMutex() {
	mu.Lock()
	mu.Unlock()
}

//go:noinline
func hangOnChan() { <-ch }

//go:noinline
func hangForever() { <-ch }

func TestHang(t *testing.T) {
	base := runtime.NumGoroutine()
	mu.Lock()
	for i := 0; i < 3; i++ {
		go hangOnMutex()
	}
	for i := 0; i < 2; i++ {
		go hangOnChan()
	}
	for runtime.NumGoroutine() != base+5 {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if path := os.Getenv("HANGDOC_EXPECT"); path != "" {
		const pkg = "hangdoc/scenarios/formats/hangtest."
		e := expect.File{
			Format: "goroutine-debug2", Go: expect.GoVersion(), Program: "hangtest",
			Command:    os.Getenv("HANGDOC_COMMAND"),
			Goroutines: base + 5, GoroutinesExact: false,
			Preamble: "panic: test timed out after 2s",
			Categories: []expect.Category{
				{Function: pkg + "TestHang", Count: 1, State: "chan receive"},
				{Function: pkg + "hangOnMutex", Count: 3, State: "sync.Mutex.Lock", CreatedBy: pkg + "TestHang"},
				{Function: pkg + "hangOnChan", Count: 2, State: "chan receive", CreatedBy: pkg + "TestHang"},
			},
			Notes: "combined output of `go test -timeout 2s`: the testing package's timeout panic lists all goroutines; the count is a lower bound (the alarm goroutine and harness goroutines come on top of what the test knows)",
		}
		if err := expect.WriteFor(path, e); err != nil {
			t.Fatal(err)
		}
	}
	hangForever()
}

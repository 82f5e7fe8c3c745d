// Command deadlock parks every goroutine it has, so the runtime stops it with
// "fatal error: all goroutines are asleep - deadlock!" and prints them all. Before the
// main goroutine blocks it writes the *.expect.json for the captured stderr.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"hangdoc/scenarios/formats/internal/expect"
)

var (
	mu   sync.Mutex
	ch   = make(chan int)
	done sync.WaitGroup
)

//go:noinline
func receiveForever() { <-ch }

//go:noinline
func lockForever() {
	mu.Lock()
	mu.Unlock()
}

//go:noinline
func waitForWorkers() { done.Wait() }

func main() {
	expPath := flag.String("expect", "", "path of the dump the caller captures from stderr")
	command := flag.String("command", "", "how the fixture was made")
	flag.Parse()
	mu.Lock()
	done.Add(1)
	go receiveForever()
	go lockForever()
	go lockForever()
	for runtime.NumGoroutine() != 4 {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	cats := []expect.Category{
		{Function: "main.waitForWorkers", Count: 1, State: expect.WaitGroupState()},
		{Function: "main.receiveForever", Count: 1, State: "chan receive", CreatedBy: "main.main"},
		{Function: "main.lockForever", Count: 2, State: "sync.Mutex.Lock", CreatedBy: "main.main"},
	}
	e := expect.File{
		Format: "goroutine-debug2", Go: expect.GoVersion(),
		Program: "deadlock", Command: *command, Goroutines: 4, GoroutinesExact: true,
		Preamble: "fatal error: all goroutines are asleep - deadlock!", Categories: cats,
		Notes: "the runtime's deadlock report on stderr: every goroutine, at traceback level 1",
	}
	if err := expect.WriteFor(*expPath, e); err != nil {
		fmt.Fprintln(os.Stderr, "deadlock:", err)
		os.Exit(3)
	}
	waitForWorkers()
}

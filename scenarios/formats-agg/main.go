// Command formats-agg starts a known set of blocked goroutines and writes the aggregated
// goroutine profiles of the process: debug=1 text, debug=0 protobuf, a delta protobuf with
// negative counts, and (when the runtime has it) the goroutineleak profile in both forms.
// The tests under tests/ assert the counts, labels and frames created here.
//
// Usage: go run . OUTDIR
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"
)

// Box is a generic type whose method blocks, so that its frames carry shape names.
type Box[T any] struct{ ch chan T }

//go:noinline
func (b *Box[T]) Wait() T { return <-b.ch }

//go:noinline
func WaitFn[F any](ch chan F) F { return <-ch }

// recvInline is small enough to be inlined into its caller.
func recvInline(ch chan int) int { return <-ch }

//go:noinline
func callsInlined(ch chan int) int { return recvInline(ch) + 1 }

//go:noinline
func waitRecv(ch chan int) { <-ch }

//go:noinline
func lockIt(mu *sync.Mutex) { mu.Lock() }

//go:noinline
func transient(ch chan struct{}) { <-ch }

//go:noinline
func leakyWorker() {
	ch := make(chan int) // nothing else can reach it: a leak the leak GC can find
	<-ch
}

func main() {
	out := os.Args[1]
	if err := os.MkdirAll(out, 0o755); err != nil {
		panic(err)
	}
	block := make(chan int)

	// 3 goroutines labelled with a label whose key has a space and whose value has a quote.
	for i := 0; i < 3; i++ {
		pprof.Do(context.Background(), pprof.Labels("handler", "/api/v1", "user id", `a b"c`), func(context.Context) {
			go waitRecv(block)
		})
	}
	// 2 goroutines blocked on a held mutex, labelled worker=w1.
	var mu sync.Mutex
	mu.Lock()
	for i := 0; i < 2; i++ {
		pprof.Do(context.Background(), pprof.Labels("worker", "w1"), func(context.Context) {
			go lockIt(&mu)
		})
	}
	// 4 goroutines in a generic method instantiated with a struct shape.
	box := &Box[struct {
		A int
		B string
	}]{ch: make(chan struct {
		A int
		B string
	})}
	for i := 0; i < 4; i++ {
		go box.Wait()
	}
	// 1 goroutine in a generic function instantiated with a func shape.
	fnCh := make(chan func(int) error)
	go WaitFn(fnCh)
	// 5 goroutines blocked inside an inlined function.
	for i := 0; i < 5; i++ {
		go callsInlined(block)
	}
	// 6 goroutines that exit during the delta window.
	done := make(chan struct{})
	for i := 0; i < 6; i++ {
		go transient(done)
	}
	// 1 leaked goroutine.
	go leakyWorker()

	time.Sleep(300 * time.Millisecond)
	runtime.GC()

	write := func(name, profile string, debug int) {
		p := pprof.Lookup(profile)
		if p == nil {
			fmt.Fprintf(os.Stderr, "profile %s not available\n", profile)
			return
		}
		f, err := os.Create(filepath.Join(out, name))
		if err != nil {
			panic(err)
		}
		if err := p.WriteTo(f, debug); err != nil {
			panic(err)
		}
		f.Close()
	}
	write("goroutine.debug1.txt", "goroutine", 1)
	write("goroutine.pb.gz", "goroutine", 0)
	write("goroutine.debug2.txt", "goroutine", 2)
	write("goroutineleak.debug1.txt", "goroutineleak", 1)
	write("goroutineleak.pb.gz", "goroutineleak", 0)

	// A delta profile over 2s during which the 6 transient goroutines exit and 2 new
	// labelled ones start: the served profile holds negative counts.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &http.Server{}
	go srv.Serve(ln)
	go func() {
		time.Sleep(700 * time.Millisecond)
		close(done)
		for i := 0; i < 2; i++ {
			pprof.Do(context.Background(), pprof.Labels("phase", "late"), func(context.Context) {
				go waitRecv(block)
			})
		}
	}()
	resp, err := http.Get("http://" + ln.Addr().String() + "/debug/pprof/goroutine?seconds=2")
	if err != nil {
		panic(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		panic(fmt.Sprint(resp.Status, err))
	}
	if err := os.WriteFile(filepath.Join(out, "goroutine-delta.pb.gz"), body, 0o644); err != nil {
		panic(err)
	}
	srv.Close()
}

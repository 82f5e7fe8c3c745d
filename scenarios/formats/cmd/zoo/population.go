package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"

	"hangdoc/scenarios/formats/internal/expect"
)

// Everything the parked goroutines wait on lives here, in a package-level variable, so that
// it stays reachable: the goroutine-leak check must find none of them leaked except the
// ones that block forever by construction.
var keep struct {
	recvCh, sendCh, selA, selB           chan int
	labelCh, closureCh, lockedCh, deepCh chan int
	parentCh, childCh, inlineCh          chan int
	intCh                                chan int
	structCh                             chan struct {
		A int
		B string
	}
	box    *Box[int]
	strBox *Box[string]
	mu     sync.Mutex
	rw     sync.RWMutex
	wg     sync.WaitGroup
	condMu sync.Mutex
	cond   *sync.Cond
	ln     net.Listener
	ln2    net.Listener
	client net.Conn
	server net.Conn
	names  chan string
}

// The labels of the labelled goroutines: a plain value, a key with a space and a quote, and
// a value with the characters that make label text hard to tokenise.
var zooLabels = map[string]string{
	"handler": "/api/v1",
	"user id": "a b\"c",
	"weird":   "x]y:z,w",
}

// population records what was started, category by category.
type population struct {
	cats    []expect.Category
	started int
}

func (p *population) add(c expect.Category) {
	p.cats = append(p.cats, c)
	p.started += c.Count
}

//go:noinline
func blockedOnChanRecv() { <-keep.recvCh }

//go:noinline
func blockedOnChanSend() { keep.sendCh <- 1 }

//go:noinline
func blockedOnNilRecv() {
	var ch chan int
	<-ch
}

//go:noinline
func blockedOnNilSend() {
	var ch chan int
	ch <- 1
}

//go:noinline
func blockedInSelect() {
	select {
	case <-keep.selA:
	case <-keep.selB:
	}
}

//go:noinline
func blockedInEmptySelect() { select {} }

//go:noinline
func blockedOnMutex() {
	keep.mu.Lock()
	keep.mu.Unlock()
}

//go:noinline
func blockedOnWriteLock() {
	keep.rw.Lock()
	keep.rw.Unlock()
}

//go:noinline
func blockedOnReadLock() {
	keep.rw.RLock()
	keep.rw.RUnlock()
}

//go:noinline
func blockedOnWaitGroup() { keep.wg.Wait() }

//go:noinline
func blockedOnCond() {
	keep.condMu.Lock()
	keep.cond.Wait()
	keep.condMu.Unlock()
}

//go:noinline
func sleeper() { time.Sleep(time.Hour) }

//go:noinline
func acceptLoop() {
	for {
		c, err := keep.ln.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}

//go:noinline
func readConn() {
	buf := make([]byte, 1)
	_, _ = keep.server.Read(buf)
}

//go:noinline
func labelledWorker() { <-keep.labelCh }

// Wait is a generic function: tracebacks print it as main.Wait[...], profiles with the full
// shape name.
//
//go:noinline
func Wait[T any](ch chan T) T { return <-ch }

// Box is a generic type whose method blocks.
type Box[T any] struct{ ch chan T }

// Wait blocks on the box's channel.
//
//go:noinline
func (b *Box[T]) Wait() T { return <-b.ch }

//go:noinline
func lockedToThread() {
	runtime.LockOSThread()
	<-keep.lockedCh
}

//go:noinline
func deepRecurse(n int) {
	if n == 0 {
		deepLeaf()
		return
	}
	deepRecurse(n - 1)
}

//go:noinline
func deepLeaf() { <-keep.deepCh }

//go:noinline
func spawnParent() {
	go childOfParent()
	<-keep.parentCh
}

//go:noinline
func childOfParent() { <-keep.childCh }

// inlinedLeaf is small enough that the compiler inlines it into inlineCaller.
func inlinedLeaf() { <-keep.inlineCh }

//go:noinline
func inlineCaller() { inlinedLeaf() }

//go:noinline
func spawnClosures(p *population) {
	for i := 0; i < 2; i++ {
		go func() {
			keep.names <- expect.CallerName()
			<-keep.closureCh
		}()
	}
	plain := <-keep.names
	if other := <-keep.names; other != plain {
		fail(fmt.Errorf("one closure reported two names: %s, %s", plain, other))
	}
	go func() {
		inner := func() {
			keep.names <- expect.CallerName()
			<-keep.closureCh
		}
		inner()
	}()
	nested := <-keep.names
	p.add(expect.Category{Function: plain, Count: 2, State: "chan receive", CreatedBy: "main.spawnClosures"})
	p.add(expect.Category{Function: nested, Count: 1, State: "chan receive", CreatedBy: "main.spawnClosures"})
}

// spawnLabelled starts goroutines that run under pprof labels.
//
//go:noinline
func spawnLabelled(n int) {
	var ls []string
	for k, v := range zooLabels {
		ls = append(ls, k, v)
	}
	for i := 0; i < n; i++ {
		go func() {
			pprof.Do(context.Background(), pprof.Labels(ls...), func(context.Context) {
				labelledWorker()
			})
		}()
	}
}

// startN starts n goroutines running f.
//
//go:noinline
func startN(n int, f func()) {
	for i := 0; i < n; i++ {
		go f()
	}
}

// spawnPopulation starts the known population and returns what it started.
//
//go:noinline
func spawnPopulation() *population {
	p := &population{}
	keep.recvCh, keep.sendCh = make(chan int), make(chan int)
	keep.selA, keep.selB = make(chan int), make(chan int)
	keep.labelCh, keep.closureCh, keep.lockedCh = make(chan int), make(chan int), make(chan int)
	keep.deepCh, keep.parentCh, keep.childCh = make(chan int), make(chan int), make(chan int)
	keep.inlineCh, keep.intCh = make(chan int), make(chan int)
	keep.structCh = make(chan struct {
		A int
		B string
	})
	keep.box, keep.strBox = &Box[int]{ch: make(chan int)}, &Box[string]{ch: make(chan string)}
	keep.cond = sync.NewCond(&keep.condMu)
	keep.names = make(chan string, 8)

	const spawner = "main.spawnPopulation"
	many := func(n int, f func(), c expect.Category) {
		startN(n, f)
		c.Count = n
		c.CreatedBy = "main.startN"
		p.add(c)
	}
	many(5, blockedOnChanRecv, expect.Category{Function: "main.blockedOnChanRecv", State: "chan receive"})
	many(3, blockedOnChanSend, expect.Category{Function: "main.blockedOnChanSend", State: "chan send"})
	many(2, blockedOnNilRecv, expect.Category{Function: "main.blockedOnNilRecv", State: "chan receive (nil chan)"})
	many(1, blockedOnNilSend, expect.Category{Function: "main.blockedOnNilSend", State: "chan send (nil chan)"})
	many(4, blockedInSelect, expect.Category{Function: "main.blockedInSelect", State: "select"})
	many(1, blockedInEmptySelect, expect.Category{Function: "main.blockedInEmptySelect", State: "select (no cases)"})

	keep.mu.Lock() // never unlocked: twenty goroutines queue on it
	many(20, blockedOnMutex, expect.Category{Function: "main.blockedOnMutex", State: "sync.Mutex.Lock"})

	keep.rw.RLock() // held by main; a writer queues, and readers queue behind the writer
	many(1, blockedOnWriteLock, expect.Category{Function: "main.blockedOnWriteLock", State: "sync.RWMutex.Lock"})
	for keep.rw.TryRLock() { // succeeds until the writer is pending
		keep.rw.RUnlock()
		time.Sleep(time.Millisecond)
	}
	many(3, blockedOnReadLock, expect.Category{Function: "main.blockedOnReadLock", State: "sync.RWMutex.RLock"})

	keep.wg.Add(1)
	many(3, blockedOnWaitGroup, expect.Category{Function: "main.blockedOnWaitGroup", State: expect.WaitGroupState()})
	many(2, blockedOnCond, expect.Category{Function: "main.blockedOnCond", State: "sync.Cond.Wait"})
	many(2, sleeper, expect.Category{Function: "main.sleeper", State: "sleep"})

	var err error
	if keep.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		fail(err)
	}
	many(1, acceptLoop, expect.Category{Function: "main.acceptLoop", State: "IO wait"})
	if keep.ln2, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		fail(err)
	}
	if keep.client, err = net.Dial("tcp", keep.ln2.Addr().String()); err != nil {
		fail(err)
	}
	if keep.server, err = keep.ln2.Accept(); err != nil {
		fail(err)
	}
	many(1, readConn, expect.Category{Function: "main.readConn", State: "IO wait"})

	spawnLabelled(2)
	labels := zooLabels
	p.add(expect.Category{Function: "main.labelledWorker", Count: 2, State: "chan receive", Labels: &labels, CreatedBy: "main.spawnLabelled"})

	go Wait(keep.intCh)
	go Wait(keep.intCh)
	go Wait(keep.structCh)
	p.add(expect.Category{Function: "main.Wait[...]", Count: 3, State: "chan receive", CreatedBy: spawner})
	go keep.box.Wait()
	go keep.strBox.Wait()
	p.add(expect.Category{Function: "main.(*Box[...]).Wait", Count: 2, State: "chan receive", CreatedBy: spawner})
	spawnGenericMethods(p) // Go 1.27+: methods with their own type parameters

	spawnClosures(p)
	many(1, lockedToThread, expect.Category{Function: "main.lockedToThread", State: "chan receive", Locked: true})
	go deepRecurse(150)
	p.add(expect.Category{Function: "main.deepLeaf", Count: 1, State: "chan receive", Elided: true, CreatedBy: spawner})
	many(1, spawnParent, expect.Category{Function: "main.spawnParent", State: "chan receive"})
	p.add(expect.Category{Function: "main.childOfParent", Count: 1, State: "chan receive",
		CreatedBy: "main.spawnParent", ParentFunction: "main.spawnParent",
		AncestorFunctions: []string{"main.spawnParent", "main.startN"}})
	many(1, inlineCaller, expect.Category{Function: "main.inlinedLeaf", State: "chan receive", Inlined: true})
	return p
}

// awaitParked waits until every goroutine started exists, then gives them time to park.
func awaitParked(want int) {
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() != want {
		if time.Now().After(deadline) {
			fail(fmt.Errorf("expected %d goroutines, runtime reports %d", want, runtime.NumGoroutine()))
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if n := runtime.NumGoroutine(); n != want {
		fail(fmt.Errorf("expected %d goroutines after settling, runtime reports %d", want, n))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "zoo:", err)
	os.Exit(3)
}

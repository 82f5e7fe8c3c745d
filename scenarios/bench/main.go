// Command bench writes a large goroutine dump in the exact runtime.Stack format, for
// measuring how fast hangdoc reads one.
//
// It starts real goroutines of about fifty stack shapes (HTTP servers and clients in IO
// wait, handlers queued on one mutex, workers in channel receive and select, a
// database/sql-like pool wait, WaitGroup and Cond waits, sleepers), 5 to 40 frames deep,
// captures them with runtime.Stack, and then replicates the captured blocks textually to N
// goroutines: ids are renumbered, argument words vary per goroutine (except those naming
// the shared mutex), some goroutines get "N minutes" and some carry labels.
//
//	go run . -n 1000000 -o dump.txt
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"
)

var (
	bigLock  sync.Mutex // held forever: handlers queue on it
	rw       sync.RWMutex
	forever  = make(chan int)
	logCh    = make(chan string)
	poolCond = sync.NewCond(&sync.Mutex{})
	wg       sync.WaitGroup
)

// Layers give stacks depth with distinct frame names.
//
//go:noinline
func layerA(d int, f func()) {
	if d <= 0 {
		f()
		return
	}
	layerB(d-1, f)
}

//go:noinline
func layerB(d int, f func()) {
	if d <= 0 {
		f()
		return
	}
	layerC(d-1, f)
}

//go:noinline
func layerC(d int, f func()) {
	if d <= 0 {
		f()
		return
	}
	layerA(d-1, f)
}

type repo struct{ name string }

//go:noinline
func (r *repo) Query(ctx context.Context, q string) { r.conn(ctx) }

//go:noinline
func (r *repo) conn(ctx context.Context) { poolGet(ctx) }

//go:noinline
func poolGet(ctx context.Context) {
	poolCond.L.Lock()
	for {
		poolCond.Wait()
	}
}

//go:noinline
func lockedSection() {
	bigLock.Lock()
	bigLock.Unlock()
}

//go:noinline
func readSection() {
	rw.RLock()
	rw.RUnlock()
}

//go:noinline
func recvForever() { <-forever }

//go:noinline
func selectForever(ctx context.Context, t *time.Ticker) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-forever:
		}
	}
}

//go:noinline
func logWrite(s string) { logCh <- s }

type handler struct{}

func (handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/lock":
		layerA(len(r.URL.RawQuery), lockedSection)
	case "/db":
		(&repo{name: "orders"}).Query(r.Context(), "select 1")
	case "/log":
		layerB(len(r.URL.RawQuery), func() { logWrite("request") })
	default:
		w.WriteHeader(204)
	}
}

func startShapes() {
	bigLock.Lock()
	rw.Lock()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &http.Server{Handler: handler{}}
	go srv.Serve(ln)
	base := "http://" + ln.Addr().String()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 100}}
	// Idle keep-alive connections: server conns in IO wait, client read/write loops.
	for i := 0; i < 4; i++ {
		go func() {
			if resp, err := client.Get(base + "/"); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	// Handlers blocked at various depths.
	for _, d := range []int{0, 2, 5, 9, 14, 20} {
		q := strings.Repeat("x", d)
		go client.Get(base + "/lock?" + q)
		go client.Get(base + "/log?" + q)
	}
	go client.Get(base + "/db")
	ctx := context.Background()
	for _, d := range []int{0, 1, 3, 6, 10, 15, 20, 26, 33} {
		d := d
		go layerA(d, recvForever)
		go layerC(d, func() { selectForever(ctx, nil) })
	}
	for _, d := range []int{0, 4, 10, 18} {
		d := d
		go layerB(d, func() { (&repo{name: "users"}).Query(ctx, "q") })
		go layerA(d, readSection)
		go layerC(d, func() { time.Sleep(time.Hour) })
	}
	wg.Add(1)
	go func() { wg.Wait() }()
	go func() { var c chan int; <-c }()
	go func() { select {} }()
	time.Sleep(300 * time.Millisecond)
}

var (
	headerRe = regexp.MustCompile(`^goroutine (\d+) \[([^\]]*)\]:$`)
	hexRe    = regexp.MustCompile(`0x[0-9a-f]+`)
)

// template is one captured goroutine block, split for fast rewriting.
type template struct {
	status string
	lines  []string // after the header
	vary   []bool   // whether the line's argument words vary per goroutine
}

func capture() []template {
	buf := make([]byte, 8<<20)
	n := runtime.Stack(buf, true)
	var out []template
	for _, block := range strings.Split(string(buf[:n]), "\n\n") {
		lines := strings.Split(strings.TrimRight(block, "\n"), "\n")
		m := headerRe.FindStringSubmatch(lines[0])
		if m == nil || strings.Contains(block, "main.capture") {
			continue
		}
		t := template{status: m[2], lines: lines[1:]}
		for _, l := range t.lines {
			shared := strings.HasPrefix(l, "sync.") || strings.HasPrefix(l, "internal/sync.")
			t.vary = append(t.vary, !strings.HasPrefix(l, "\t") && !strings.HasPrefix(l, "created by") && !shared)
		}
		out = append(out, t)
	}
	return out
}

func main() {
	n := flag.Int("n", 100000, "goroutines to write")
	outPath := flag.String("o", "-", "output file (- for stdout)")
	flag.Parse()
	startShapes()
	tpls := capture()
	var w io.Writer = os.Stdout
	if *outPath != "-" {
		f, err := os.Create(*outPath)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	labels := []string{
		` {handler: /api/v1/orders, tenant: acme}`,
		` {handler: /api/v1/users, "request kind": "batch]x"}`,
	}
	for i := 0; i < *n; i++ {
		t := tpls[i%len(tpls)]
		salt := uint64(i)*0x9e3779b97f4a7c15 | 1
		status := t.status
		if i%3 != 0 {
			status += fmt.Sprintf(", %d minutes", 1+(i/7)%300)
		}
		lab := ""
		if i%20 == 0 {
			lab = labels[(i/20)%len(labels)]
		}
		if i > 0 {
			bw.WriteString("\n")
		}
		fmt.Fprintf(bw, "goroutine %d [%s]%s:\n", i+1, status, lab)
		for j, l := range t.lines {
			if t.vary[j] {
				l = hexRe.ReplaceAllStringFunc(l, func(h string) string {
					if len(h) < 6 {
						return h // small integers and lengths stay
					}
					salt = salt*6364136223846793005 + 1442695040888963407
					return fmt.Sprintf("0xc%09x", salt>>28)
				})
			}
			bw.WriteString(l)
			bw.WriteByte('\n')
		}
	}
	if err := bw.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "wrote %d goroutines from %d captured shapes\n", *n, len(tpls))
	os.Exit(0)
}

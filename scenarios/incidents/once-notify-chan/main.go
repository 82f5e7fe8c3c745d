// A nightly invoice reconciliation job: it matches invoices against payments with a pool of
// workers, publishes one event per reconciled invoice to the event bus, and exits.
package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"hangdoc.test/scenarios/incidents/internal/ops"
	"hangdoc.test/scenarios/incidents/internal/peer"
)

var cleanupStarted atomic.Int64 // unix nanos when cleanup began

func main() {
	if peer.Serve(map[string]func([]string){"broker": runBroker}) {
		return
	}
	log.SetOutput(os.Stderr)
	pprofAddr := ops.StartDebugServer()
	brokerAddr := startBroker()
	ops.AnnounceReady(pprofAddr, "", 60*time.Second, func() bool {
		at := cleanupStarted.Load()
		return at != 0 && time.Since(time.Unix(0, at)) > 2500*time.Millisecond
	})
	if err := run(brokerAddr); err != nil {
		log.Printf("reconcile: %v", err)
	}
	log.Println("reconcile: done")
}

func run(brokerAddr string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	session, err := OpenEventSession(brokerAddr)
	if err != nil {
		return err
	}
	cleanup := func() {
		cleanupStarted.Store(time.Now().UnixNano())
		if err := session.Close(); err != nil {
			log.Printf("close event session: %v", err)
		}
	}
	defer cleanup()

	progress := &Progress{}
	go progress.report(ctx, 500*time.Millisecond)

	invoices := make(chan Invoice)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for inv := range invoices {
				if reconcile(inv) {
					_ = session.Publish("invoice.reconciled", inv.ID)
				}
				progress.done.Add(1)
			}
		}()
	}
	for i := range 400 {
		invoices <- Invoice{ID: fmt.Sprintf("INV-%06d", i), Cents: int64(1000 + i*7)}
	}
	close(invoices)
	wg.Wait()
	return nil
}

// Invoice is one invoice to reconcile.
type Invoice struct {
	ID    string
	Cents int64
}

func reconcile(inv Invoice) bool {
	time.Sleep(2 * time.Millisecond) // the payment lookup
	return inv.Cents%3 != 0
}

// Progress reports how far the job is.
type Progress struct{ done atomic.Int64 }

func (p *Progress) report(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = p.done.Load()
		}
	}
}

// startBroker runs the event bus broker as a separate process and returns its address.
func startBroker() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ops.Fatalf("broker port: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if _, err := peer.Spawn("broker", addr); err != nil {
		ops.Fatalf("broker: %v", err)
	}
	for range 100 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		time.Sleep(50 * time.Millisecond)
	}
	ops.Fatalf("broker did not come up on %s", addr)
	return ""
}

// runBroker is the broker process: it accepts publishers and, when a client asks to close,
// ends the connection from its side without confirming (as a broker being failed over does).
func runBroker(args []string) {
	ln, err := net.Listen("tcp", args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "broker:", err)
		os.Exit(2)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			continue
		}
		go func() {
			defer c.Close()
			go func() {
				for {
					time.Sleep(time.Second)
					if _, err := c.Write([]byte("HB\n")); err != nil {
						return
					}
				}
			}()
			r := bufio.NewScanner(c)
			for r.Scan() {
				if strings.HasPrefix(r.Text(), "CLOSE") {
					// End our side without a CLOSE-OK, then keep draining what the client sends.
					time.Sleep(200 * time.Millisecond)
					if tc, ok := c.(*net.TCPConn); ok {
						_ = tc.CloseWrite()
					}
					_, _ = io.Copy(io.Discard, c)
					return
				}
			}
		}()
	}
}

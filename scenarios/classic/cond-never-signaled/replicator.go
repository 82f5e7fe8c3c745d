package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"sync"
	"time"
)

// Replicator applies the orders change feed to the search index.
type Replicator struct {
	feed     *changeFeed
	index    *searchIndex
	queue    *changeQueue
	appliers int

	mu      sync.Mutex
	state   string
	applied int64
}

// State is "running" or "stopped".
func (r *Replicator) State() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}

func (r *Replicator) setState(s string) {
	r.mu.Lock()
	r.state = s
	r.mu.Unlock()
}

// run starts the appliers and feeds them until the change feed fails.
func (r *Replicator) run(ctx context.Context) {
	r.setState("running")
	for i := range r.appliers {
		go r.applyLoop(i)
	}
	for {
		batch, err := r.feed.Next(ctx)
		if err != nil {
			log.Printf("replicator: change feed: %v; replication stopped", err)
			r.setState("stopped")
			return
		}
		for _, c := range batch {
			r.queue.Push(c)
		}
	}
}

// applyLoop writes changes into the index until the queue is closed.
func (r *Replicator) applyLoop(worker int) {
	for {
		c, ok := r.queue.Pop()
		if !ok {
			log.Printf("replicator: applier %d done", worker)
			return
		}
		r.index.Apply(c)
		r.mu.Lock()
		r.applied++
		r.mu.Unlock()
	}
}

// errFeedReset is what the feed returns when the database drops the
// replication connection.
var errFeedReset = errors.New("read replication stream: connection reset by peer")

// changeFeed stands in for the database's logical replication stream: it
// delivers a number of batches, then the connection drops.
type changeFeed struct {
	batches int
	latency time.Duration
	lsn     int64
}

func (f *changeFeed) Next(ctx context.Context) ([]Change, error) {
	if f.batches == 0 {
		return nil, errFeedReset
	}
	f.batches--
	t := time.NewTimer(f.latency)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	products := []string{"espresso machine", "milk frother", "coffee grinder", "descaler", "travel mug"}
	batch := make([]Change, 8)
	for i := range batch {
		f.lsn++
		batch[i] = Change{LSN: f.lsn, OrderID: fmt.Sprintf("ord-%06d", f.lsn), Op: "upsert", Text: products[f.lsn%int64(len(products))]}
	}
	return batch, nil
}

// searchIndex is an in-memory inverted index of orders by word.
type searchIndex struct {
	mu    sync.RWMutex
	words map[string]map[string]bool
	lsn   int64
}

func newSearchIndex() *searchIndex { return &searchIndex{words: map[string]map[string]bool{}} }

func (x *searchIndex) Apply(c Change) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, w := range strings.Fields(c.Text) {
		if x.words[w] == nil {
			x.words[w] = map[string]bool{}
		}
		x.words[w][c.OrderID] = true
	}
	x.lsn = max(x.lsn, c.LSN)
}

func (x *searchIndex) Search(word string, limit int) []string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out []string
	for id := range x.words[word] {
		if len(out) == limit {
			break
		}
		out = append(out, id)
	}
	return out
}

package main

import "sync"

// Change is one row change from the orders database.
type Change struct {
	LSN     int64
	OrderID string
	Op      string
	Text    string
}

// changeQueue hands changes from the replicator to the appliers. Pop blocks
// until a change arrives or the queue is closed.
type changeQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	items  []Change
	closed bool
}

func newChangeQueue() *changeQueue {
	q := &changeQueue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// Push appends a change and wakes one applier.
func (q *changeQueue) Push(c Change) {
	q.mu.Lock()
	q.items = append(q.items, c)
	q.mu.Unlock()
	q.cond.Signal()
}

// Close wakes every applier; Pop then drains what is left and reports false.
func (q *changeQueue) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}

// Pop returns the oldest change, or false once the queue is closed and empty.
func (q *changeQueue) Pop() (Change, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 && !q.closed {
		q.cond.Wait()
	}
	if len(q.items) == 0 {
		return Change{}, false
	}
	c := q.items[0]
	q.items = q.items[1:]
	return c, true
}

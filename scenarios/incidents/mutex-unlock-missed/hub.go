package main

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrArchived is returned for matches that can no longer be followed live.
var ErrArchived = errors.New("match is archived")

// ScoreUpdate is one change of a match's score.
type ScoreUpdate struct {
	Match string
	Home  int
	Away  int
	At    time.Time
}

// Follower is one client following one match; its writer drains outbox.
type Follower struct {
	client   string
	outbox   chan ScoreUpdate
	lastSeen time.Time
}

// ScoreHub knows who follows which match and the latest score of each.
type ScoreHub struct {
	mu        sync.Mutex
	followers map[string]map[string]*Follower // match -> client -> follower
	boards    map[string]ScoreUpdate
	archived  map[string]bool
}

// NewScoreHub returns an empty hub.
func NewScoreHub(archived map[string]bool) *ScoreHub {
	return &ScoreHub{
		followers: map[string]map[string]*Follower{},
		boards:    map[string]ScoreUpdate{},
		archived:  archived,
	}
}

// Follow registers client as a follower of match.
func (h *ScoreHub) Follow(client, match string) error {
	h.mu.Lock()
	if h.archived[match] {
		// BUG: this rare path returns with h.mu still locked.
		return fmt.Errorf("follow %s: %w", match, ErrArchived)
	}
	byClient := h.followers[match]
	if byClient == nil {
		byClient = map[string]*Follower{}
		h.followers[match] = byClient
	}
	f, ok := byClient[client]
	if !ok {
		f = &Follower{client: client, outbox: make(chan ScoreUpdate, 64)}
		byClient[client] = f
		go f.writeLoop()
	}
	f.lastSeen = time.Now()
	h.mu.Unlock()
	return nil
}

// Publish records an update and queues it to every follower of the match.
func (h *ScoreHub) Publish(u ScoreUpdate) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.boards[u.Match] = u
	for _, f := range h.followers[u.Match] {
		select {
		case f.outbox <- u:
		default: // slow follower: drop, it will get the next one
		}
	}
}

// Board returns the latest score of a match.
func (h *ScoreHub) Board(match string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	b := h.boards[match]
	return fmt.Sprintf("%s %d:%d", match, b.Home, b.Away)
}

func (h *ScoreHub) expireLoop(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for range t.C {
		h.dropIdle(time.Now().Add(-time.Minute))
	}
}

func (h *ScoreHub) dropIdle(before time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for match, byClient := range h.followers {
		for client, f := range byClient {
			if f.lastSeen.Before(before) {
				close(f.outbox)
				delete(byClient, client)
			}
		}
		if len(byClient) == 0 {
			delete(h.followers, match)
		}
	}
}

func (f *Follower) writeLoop() {
	for u := range f.outbox {
		f.deliver(u)
	}
}

func (f *Follower) deliver(u ScoreUpdate) {
	_ = fmt.Sprintf("%s <- %s %d:%d", f.client, u.Match, u.Home, u.Away) // the push itself
}

package main

import (
	"crypto/rand"
	"encoding/hex"
	"log"
	"sync"
	"time"
)

// Session is a logged-in user.
type Session struct {
	ID        string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

func (s *Session) expired(now time.Time) bool { return now.After(s.ExpiresAt) }

// SessionStore keeps sessions in memory behind one mutex.
type SessionStore struct {
	mu    sync.Mutex
	items map[string]*Session
	ttl   time.Duration
}

// NewSessionStore returns an empty store whose sessions live for ttl.
func NewSessionStore(ttl time.Duration) *SessionStore {
	return &SessionStore{items: make(map[string]*Session), ttl: ttl}
}

// Put creates a session for a user.
func (s *SessionStore) Put(userID string) *Session {
	var raw [8]byte
	_, _ = rand.Read(raw[:])
	now := time.Now()
	sess := &Session{ID: "sess-" + hex.EncodeToString(raw[:]), UserID: userID, CreatedAt: now, ExpiresAt: now.Add(s.ttl)}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items[sess.ID] = sess
	return sess
}

// Get returns a live session. An expired one is removed on the way.
func (s *SessionStore) Get(id string) (*Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.items[id]
	if !ok {
		return nil, false
	}
	if sess.expired(time.Now()) {
		s.Delete(id)
		return nil, false
	}
	return sess, true
}

// Delete removes a session (logout).
func (s *SessionStore) Delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.items, id)
}

// janitor drops expired sessions periodically.
func (s *SessionStore) janitor(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for now := range t.C {
		s.mu.Lock()
		n := 0
		for id, sess := range s.items {
			if sess.expired(now) {
				delete(s.items, id)
				n++
			}
		}
		s.mu.Unlock()
		log.Printf("sessions: purged %d expired", n)
	}
}

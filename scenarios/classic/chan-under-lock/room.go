package main

import (
	"bytes"
	"encoding/json"
	"log"
	"sync"
	"time"
)

// Message is one chat line.
type Message struct {
	Seq    int64     `json:"seq"`
	Author string    `json:"author"`
	Text   string    `json:"text"`
	At     time.Time `json:"at"`
}

// Member is a participant with its own delivery goroutine.
type Member struct {
	Name      string
	outbox    chan Message
	conn      bytes.Buffer // stands in for the member's websocket
	delivered int64
}

// Room is a chat room; one mutex guards its members and history.
type Room struct {
	mu      sync.Mutex
	name    string
	members map[string]*Member
	history []Message
	seq     int64
}

// Join adds a member and starts its delivery goroutine.
func (r *Room) Join(name string) *Member {
	m := &Member{Name: name, outbox: make(chan Message)}
	r.mu.Lock()
	r.members[name] = m
	r.mu.Unlock()
	go m.pump(r)
	return m
}

// Publish appends a message to the history and hands it to every member.
func (r *Room) Publish(author, text string) Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	msg := Message{Seq: r.seq, Author: author, Text: text, At: time.Now()}
	r.history = append(r.history, msg)
	for _, m := range r.members {
		m.outbox <- msg
	}
	return msg
}

// Members lists who is in the room and how far each has read.
func (r *Room) Members() map[string]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int64, len(r.members))
	for name, m := range r.members {
		out[name] = m.delivered
	}
	return out
}

// markDelivered records a member's read position.
func (r *Room) markDelivered(m *Member, seq int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m.delivered = seq
}

// pump writes the member's messages out, one at a time.
func (m *Member) pump(r *Room) {
	for msg := range m.outbox {
		if err := json.NewEncoder(&m.conn).Encode(msg); err != nil {
			log.Printf("chat: deliver to %s: %v", m.Name, err)
			continue
		}
		if m.conn.Len() > 1<<16 {
			m.conn.Reset()
		}
		r.markDelivered(m, msg.Seq)
	}
}

// Hub holds the rooms.
type Hub struct {
	mu    sync.Mutex
	rooms map[string]*Room
}

// NewHub returns a hub without rooms.
func NewHub() *Hub { return &Hub{rooms: map[string]*Room{}} }

// Room returns a room, creating it on first use.
func (h *Hub) Room(name string) *Room {
	h.mu.Lock()
	defer h.mu.Unlock()
	r, ok := h.rooms[name]
	if !ok {
		r = &Room{name: name, members: map[string]*Member{}}
		h.rooms[name] = r
	}
	return r
}

// presenceLoop logs how many rooms are open.
func (h *Hub) presenceLoop(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for range t.C {
		h.mu.Lock()
		n := len(h.rooms)
		h.mu.Unlock()
		log.Printf("chat: %d rooms open", n)
	}
}

package main

import (
	"log"
	"time"

	"hangdoc.test/scenarios/incidents/once-notify-chan/busclient"
)

// EventSession keeps a bus connection for publishing reconciliation events and reconnects
// when the broker drops it.
type EventSession struct {
	addr            string
	conn            *busclient.Conn
	done            chan struct{}
	notifyConnClose chan *busclient.Error
}

// OpenEventSession connects and starts watching the connection.
func OpenEventSession(addr string) (*EventSession, error) {
	s := &EventSession{addr: addr, done: make(chan struct{})}
	if err := s.connect(); err != nil {
		return nil, err
	}
	go s.handleReconnect()
	return s, nil
}

func (s *EventSession) connect() error {
	conn, err := busclient.Dial(s.addr)
	if err != nil {
		return err
	}
	s.conn = conn
	s.notifyConnClose = make(chan *busclient.Error)
	conn.NotifyClose(s.notifyConnClose)
	return nil
}

// handleReconnect watches for connection failures until the session is closed.
func (s *EventSession) handleReconnect() {
	for {
		select {
		case <-s.done:
			return
		case err := <-s.notifyConnClose:
			log.Printf("event bus connection closed (%v); reconnecting", err)
			for s.connect() != nil {
				time.Sleep(time.Second)
			}
		}
	}
}

// Publish sends one event.
func (s *EventSession) Publish(topic, body string) error {
	return s.conn.Publish(topic, body)
}

// Close stops watching and closes the connection.
func (s *EventSession) Close() error {
	close(s.done)
	return s.conn.Close()
}

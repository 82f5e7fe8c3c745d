package main

import (
	"context"
	"log"
	"sync"
	"time"
)

// Device is a phone registered for push notifications.
type Device struct {
	ID       string
	Platform string
	Token    string
	rotated  chan string
	cancel   context.CancelFunc
}

// PushRegistry maps devices to their current push tokens.
type PushRegistry struct {
	mu      sync.RWMutex
	devices map[string]*Device
}

// NewPushRegistry returns an empty registry.
func NewPushRegistry() *PushRegistry { return &PushRegistry{devices: map[string]*Device{}} }

// Register records a device's token and watches for its rotation.
func (r *PushRegistry) Register(id, platform, token string) *Device {
	ctx, cancel := context.WithCancel(context.Background())
	dev := &Device{ID: id, Platform: platform, Token: token, rotated: make(chan string), cancel: cancel}
	r.mu.Lock()
	r.devices[id] = dev
	r.mu.Unlock()
	go r.watchToken(ctx, dev)
	return dev
}

// watchToken applies token rotations pushed by the platform until the
// registration is cancelled.
func (r *PushRegistry) watchToken(ctx context.Context, dev *Device) {
	for {
		select {
		case token := <-dev.rotated:
			r.mu.Lock()
			dev.Token = token
			r.mu.Unlock()
		case <-ctx.Done():
			return
		}
	}
}

// Lookup returns the device registered under id.
func (r *PushRegistry) Lookup(id string) (*Device, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	d, ok := r.devices[id]
	return d, ok
}

func (r *PushRegistry) statsLoop(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for range t.C {
		r.mu.RLock()
		n := len(r.devices)
		r.mu.RUnlock()
		log.Printf("push: %d devices registered", n)
	}
}

// Notification is one push message.
type Notification struct {
	DeviceID string
	Title    string
	Body     string
}

// pushSender delivers notifications through the platforms' gateways.
type pushSender struct {
	registry *PushRegistry
	queue    chan Notification
	sent     sync.Map
}

func (s *pushSender) worker() {
	for n := range s.queue {
		dev, ok := s.registry.Lookup(n.DeviceID)
		if !ok {
			continue
		}
		time.Sleep(5 * time.Millisecond) // the gateway round trip
		s.sent.Store(dev.ID, time.Now())
	}
}

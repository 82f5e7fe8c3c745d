package main

import (
	"errors"
	"fmt"
	"log"
	"sync"
	"time"
)

// Order is a placed order.
type Order struct {
	ID       string    `json:"id"`
	Customer string    `json:"customer"`
	ShipTo   Address   `json:"ship_to"`
	Placed   time.Time `json:"placed"`
}

// OrderService places and looks up orders.
type OrderService struct {
	addresses *AddressClient
	mu        sync.Mutex
	orders    map[string]*Order
	next      int
}

// PlaceOrder verifies the shipping address and records the order.
func (s *OrderService) PlaceOrder(customer string, shipTo Address) (*Order, error) {
	verdict, err := s.addresses.Verify(shipTo)
	if err != nil {
		return nil, err
	}
	if !verdict.Deliverable {
		return nil, errors.New("address is not deliverable")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	o := &Order{ID: fmt.Sprintf("ord-%06d", s.next), Customer: customer, ShipTo: verdict.Normalized, Placed: time.Now()}
	s.orders[o.ID] = o
	return o, nil
}

// Order looks an order up.
func (s *OrderService) Order(id string) (*Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	return o, ok
}

// expireCarts stands in for periodic housekeeping.
func (s *OrderService) expireCarts(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for range t.C {
		s.mu.Lock()
		n := len(s.orders)
		s.mu.Unlock()
		log.Printf("orders: %d orders on file", n)
	}
}

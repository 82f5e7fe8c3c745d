package main

import (
	"context"
	"hash/crc32"
	"log"
	"sync/atomic"
	"time"
)

// Shipment is what is being sent where.
type Shipment struct {
	FromZip  string `json:"from_zip"`
	ToZip    string `json:"to_zip"`
	WeightG  int    `json:"weight_g"`
	Priority bool   `json:"priority"`
}

// Rate is a shipping price.
type Rate struct {
	Carrier string `json:"carrier"`
	Service string `json:"service"`
	Cents   int64  `json:"cents"`
}

// flatRate is charged when the carrier does not answer in time.
var flatRate = Rate{Carrier: "flat", Service: "standard", Cents: 695}

type rateResult struct {
	rate Rate
	err  error
}

// RateShopper asks the carrier for a rate within a time budget.
type RateShopper struct {
	carrier   *carrierSDK
	budget    time.Duration
	fallbacks atomic.Int64
	quoted    atomic.Int64
}

// CheapestRate returns the carrier's rate, or the flat rate if the carrier
// is slower than the budget.
func (s *RateShopper) CheapestRate(ctx context.Context, sh Shipment) (Rate, error) {
	ctx, cancel := context.WithTimeout(ctx, s.budget)
	defer cancel()

	ch := make(chan rateResult)
	go func() {
		rate, err := s.carrier.Quote(sh)
		ch <- rateResult{rate, err}
	}()

	select {
	case r := <-ch:
		s.quoted.Add(1)
		return r.rate, r.err
	case <-ctx.Done():
		s.fallbacks.Add(1)
		return flatRate, nil
	}
}

func (s *RateShopper) reportLoop(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for range t.C {
		log.Printf("rates: %d quoted, %d flat-rate fallbacks", s.quoted.Load(), s.fallbacks.Load())
	}
}

// carrierSDK stands in for the carrier's client library, whose calls block
// for the length of an HTTP round trip and take no context.
type carrierSDK struct{}

func (c *carrierSDK) Quote(sh Shipment) (Rate, error) {
	h := crc32.ChecksumIEEE([]byte(sh.FromZip + sh.ToZip))
	time.Sleep(time.Duration(20+h%180) * time.Millisecond)
	cents := int64(450 + sh.WeightG/10 + int(h%300))
	if sh.Priority {
		return Rate{Carrier: "parcelco", Service: "express", Cents: cents * 2}, nil
	}
	return Rate{Carrier: "parcelco", Service: "ground", Cents: cents}, nil
}

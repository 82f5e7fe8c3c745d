package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"log"
	"sync"
	"time"
)

// section is one part of a report, rendered independently.
type section struct {
	Index int
	Name  string
	Month string
}

type sectionResult struct {
	Index int
	Name  string
	Rows  int
	Total int64
}

// Report is a finished monthly report.
type Report struct {
	Customer string          `json:"customer"`
	Month    string          `json:"month"`
	Sections []sectionResult `json:"sections"`
}

// ReportBuilder renders report sections in parallel.
type ReportBuilder struct {
	parallelism int
	rates       *fxRates
}

var sectionNames = []string{"summary", "invoices", "refunds", "chargebacks", "payouts", "fees"}

// Build renders every section of a customer's monthly report.
func (b *ReportBuilder) Build(ctx context.Context, customer, month string) (*Report, error) {
	jobs := make(chan section)
	results := make(chan sectionResult)
	for range b.parallelism {
		go b.renderWorker(jobs, results)
	}

	pending := make([]section, len(sectionNames))
	for i, name := range sectionNames {
		pending[i] = section{Index: i, Name: customer + "/" + name, Month: month}
	}
	report := &Report{Customer: customer, Month: month, Sections: make([]sectionResult, len(pending))}
	for received := 0; received < len(report.Sections); {
		var send chan<- section
		var next section
		if len(pending) > 0 {
			send, next = jobs, pending[0]
		}
		select {
		case send <- next:
			pending = pending[1:]
		case r := <-results:
			report.Sections[r.Index] = r
			received++
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return report, nil
}

// renderWorker renders sections until the jobs channel is closed.
func (b *ReportBuilder) renderWorker(jobs <-chan section, results chan<- sectionResult) {
	for s := range jobs {
		results <- b.render(s)
	}
}

func (b *ReportBuilder) render(s section) sectionResult {
	h := fnv.New64a()
	rows := 50 + len(s.Name)*7
	var total int64
	for i := range rows {
		fmt.Fprintf(h, "%s:%s:%d", s.Name, s.Month, i)
		total += int64(h.Sum64()%10_000) * b.rates.Rate("EUR") / 100
	}
	return sectionResult{Index: s.Index, Name: s.Name, Rows: rows, Total: total}
}

// fxRates caches exchange rates, refreshed periodically.
type fxRates struct {
	mu    sync.RWMutex
	rates map[string]int64
}

func (f *fxRates) Rate(currency string) int64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if r, ok := f.rates[currency]; ok {
		return r
	}
	return 100
}

func (f *fxRates) refreshLoop(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for range t.C {
		f.mu.Lock()
		f.rates = map[string]int64{"EUR": 108, "GBP": 127, "JPY": 1}
		f.mu.Unlock()
		log.Printf("fx: rates refreshed")
	}
}

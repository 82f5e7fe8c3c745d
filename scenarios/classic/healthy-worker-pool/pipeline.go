package main

import (
	"crypto/sha256"
	"encoding/hex"
	"log"
	"sync"
	"sync/atomic"
	"time"
)

// Job is one uploaded document to ingest.
type Job struct {
	Tenant string
	Name   string
	Size   int
}

// Pipeline moves spooled uploads through the workers.
type Pipeline struct {
	jobs chan Job

	spoolMu sync.Mutex
	spool   []Job

	stored  atomic.Int64
	bytes   atomic.Int64
	catalog sync.Map // name -> checksum
}

// NewPipeline returns a pipeline whose jobs channel holds depth jobs.
func NewPipeline(depth int) *Pipeline { return &Pipeline{jobs: make(chan Job, depth)} }

// Enqueue spools uploads; the scanner picks them up.
func (p *Pipeline) Enqueue(jobs ...Job) {
	p.spoolMu.Lock()
	p.spool = append(p.spool, jobs...)
	p.spoolMu.Unlock()
}

// spoolScanner moves spooled uploads onto the jobs channel.
func (p *Pipeline) spoolScanner(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for range t.C {
		p.spoolMu.Lock()
		batch := p.spool
		p.spool = nil
		p.spoolMu.Unlock()
		for _, j := range batch {
			p.jobs <- j
		}
	}
}

// worker checksums and stores documents as they come.
func (p *Pipeline) worker(id int) {
	buf := make([]byte, 32<<10)
	for job := range p.jobs {
		for i := range buf[:job.Size] {
			buf[i] = byte(i*id + len(job.Name))
		}
		sum := sha256.Sum256(buf[:job.Size])
		time.Sleep(time.Duration(10+job.Size%20) * time.Millisecond) // the object-store write
		p.catalog.Store(job.Tenant+"/"+job.Name, hex.EncodeToString(sum[:8]))
		p.stored.Add(1)
		p.bytes.Add(int64(job.Size))
	}
}

// metricsLoop logs throughput.
func (p *Pipeline) metricsLoop(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var last int64
	for range t.C {
		n := p.stored.Load()
		if n != last && n%1000 < 200 {
			log.Printf("ingest: %d documents stored (%d/s), %d queued", n, n-last, len(p.jobs))
		}
		last = n
	}
}

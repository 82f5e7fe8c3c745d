// Package tracelog writes request trace records to a file without making callers wait for the
// disk: Emit queues a record, one goroutine formats queued records into batches, another writes
// batches to the file, and the file is rotated on a schedule.
package tracelog

import (
	"bytes"
	"fmt"
	"os"
	"sync/atomic"
	"time"
)

// Record is one trace line.
type Record struct {
	At      time.Time
	Method  string
	Path    string
	Status  int
	Latency time.Duration
	TraceID string
}

// FileSink is an asynchronous, rotating trace file.
type FileSink struct {
	path    string
	records chan *Record
	batches chan []byte
	rot     <-chan time.Time
	file    *os.File
	// Rotations counts successful rotations; RotateErrors failed ones.
	Rotations    atomic.Int64
	RotateErrors atomic.Int64
}

// NewFileSink opens path for appending and starts the sink's goroutines.
func NewFileSink(path string, queue int, rotateEvery time.Duration) (*FileSink, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	s := &FileSink{
		path:    path,
		records: make(chan *Record, queue),
		batches: make(chan []byte, 4),
		rot:     time.Tick(rotateEvery),
		file:    f,
	}
	// Formatter: drains records into batches, rotates when asked.
	go func() {
		var buf bytes.Buffer
		flush := time.NewTicker(100 * time.Millisecond)
		defer flush.Stop()
		for {
			select {
			case rec := <-s.records:
				fmt.Fprintf(&buf, "%s %s %s %d %s trace=%s\n", rec.At.Format(time.RFC3339Nano),
					rec.Method, rec.Path, rec.Status, rec.Latency, rec.TraceID)
				if buf.Len() > 32<<10 {
					s.batches <- bytes.Clone(buf.Bytes())
					buf.Reset()
				}
			case <-flush.C:
				if buf.Len() > 0 {
					s.batches <- bytes.Clone(buf.Bytes())
					buf.Reset()
				}
			case <-s.rot:
				if err := s.rotate(); err != nil {
					s.RotateErrors.Add(1)
					fmt.Fprintf(os.Stderr, "FileSink(%q): %s\n", s.path, err)
					return
				}
				s.Rotations.Add(1)
			}
		}
	}()
	// Writer: puts batches on disk.
	go func() {
		for b := range s.batches {
			_, _ = s.file.Write(b)
		}
	}()
	return s, nil
}

// Emit queues one record for writing.
func (s *FileSink) Emit(rec *Record) {
	s.records <- rec
}

func (s *FileSink) rotate() error {
	archived := s.path + "." + time.Now().Format("20060102-150405.000")
	if err := os.Rename(s.path, archived); err != nil {
		return fmt.Errorf("rotate: %w", err)
	}
	f, err := os.OpenFile(s.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("rotate: reopen: %w", err)
	}
	old := s.file
	s.file = f
	return old.Close()
}

// Command global-deadlock-fatal is a nightly job that exports the day's
// invoices as CSV. Formatting runs on a few worker goroutines; the export
// waits for the workers to finish before it starts reading their rows, but
// the workers cannot finish while nobody reads their rows. Every goroutine
// ends up blocked and the runtime aborts with
// "fatal error: all goroutines are asleep - deadlock!".
//
// Unlike the other scenarios this program serves no pprof and prints no
// READY line: any listener or pending timer would keep the runtime from
// declaring the deadlock. Its evidence is the traceback on stderr.
package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strconv"
	"sync"
	"time"
)

// Invoice is one billed invoice.
type Invoice struct {
	Number   string
	Customer string
	Currency string
	Cents    int64
	IssuedAt time.Time
}

func main() {
	out := flag.String("out", "", "CSV file to write (default stdout)")
	workers := flag.Int("workers", 4, "formatting goroutines")
	flag.Parse()

	var w io.Writer = os.Stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		w = f
	}
	invoices := loadInvoices(time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC), 40)
	n, err := exportInvoices(w, invoices, *workers)
	if err != nil {
		log.Fatalf("export: %v", err)
	}
	log.Printf("export: %d invoices written", n)
}

// exportInvoices formats invoices in parallel and writes them as CSV rows.
func exportInvoices(w io.Writer, invoices []Invoice, workers int) (int, error) {
	jobs := make(chan Invoice)
	rows := make(chan []string)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go formatWorker(jobs, rows, &wg)
	}
	go func() {
		for _, inv := range invoices {
			jobs <- inv
		}
		close(jobs)
	}()

	wg.Wait()
	close(rows)

	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"number", "customer", "currency", "amount", "issued_at"}); err != nil {
		return 0, err
	}
	n := 0
	for row := range rows {
		if err := cw.Write(row); err != nil {
			return n, err
		}
		n++
	}
	cw.Flush()
	return n, cw.Error()
}

// formatWorker turns invoices into CSV rows.
func formatWorker(jobs <-chan Invoice, rows chan<- []string, wg *sync.WaitGroup) {
	defer wg.Done()
	for inv := range jobs {
		rows <- []string{
			inv.Number,
			inv.Customer,
			inv.Currency,
			strconv.FormatInt(inv.Cents/100, 10) + "." + fmt.Sprintf("%02d", inv.Cents%100),
			inv.IssuedAt.Format(time.RFC3339),
		}
	}
}

// loadInvoices stands in for the billing database query.
func loadInvoices(day time.Time, n int) []Invoice {
	currencies := []string{"EUR", "USD", "GBP"}
	out := make([]Invoice, n)
	for i := range out {
		out[i] = Invoice{
			Number:   fmt.Sprintf("INV-%s-%04d", day.Format("20060102"), i+1),
			Customer: fmt.Sprintf("cus-%03d", (i*37)%120),
			Currency: currencies[i%len(currencies)],
			Cents:    int64(1999 + i*250),
			IssuedAt: day.Add(time.Duration(i) * 17 * time.Minute),
		}
	}
	return out
}

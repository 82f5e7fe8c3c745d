package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"sync/atomic"
	"time"
)

// LedgerStore reads settled payments.
type LedgerStore struct {
	db         *sql.DB
	scanErrors atomic.Int64
}

// DayTotal is the settled amount of one merchant on one day.
type DayTotal struct {
	Day   string `json:"day"`
	Cents int64  `json:"cents"`
}

// DailyTotals sums a merchant's settled payments per day.
func (s *LedgerStore) DailyTotals(merchant string) ([]DayTotal, error) {
	rows, err := s.db.Query(`SELECT to_char(day, 'YYYY-MM-DD'), sum(amount_cents)
		FROM payments WHERE merchant_id = $1 GROUP BY day ORDER BY day`, merchant)
	if err != nil {
		return nil, err
	}
	var out []DayTotal
	for rows.Next() {
		var t DayTotal
		if err := rows.Scan(&t.Day, &t.Cents); err != nil {
			// BUG: returns without rows.Close(); the connection stays checked out.
			s.scanErrors.Add(1)
			log.Printf("daily totals of merchant %s: %v", merchant, err)
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Payment is one settled payment.
type Payment struct {
	ID    int64  `json:"id"`
	Day   string `json:"day"`
	Cents *int64 `json:"cents"`
}

// RecentPayments lists a merchant's latest payments.
func (s *LedgerStore) RecentPayments(merchant string, limit int) ([]Payment, error) {
	rows, err := s.db.Query(`SELECT id, to_char(day, 'YYYY-MM-DD'), amount_cents
		FROM payments WHERE merchant_id = $1 ORDER BY id DESC LIMIT $2`, merchant, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Payment
	for rows.Next() {
		var p Payment
		if err := rows.Scan(&p.ID, &p.Day, &p.Cents); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// refreshStats logs the pool's state now and then, as a metrics exporter would.
func (s *LedgerStore) refreshStats(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for range t.C {
		st := s.db.Stats()
		_ = fmt.Sprintf("open=%d in_use=%d idle=%d wait=%d", st.OpenConnections, st.InUse, st.Idle, st.WaitCount)
	}
}

// migrate creates and fills the payments table. Payments still awaiting the acquirer's
// confirmation have no amount yet (NULL).
func migrate(db *sql.DB) error {
	stmts := []string{
		`DROP TABLE IF EXISTS payments`,
		`CREATE TABLE payments (id bigserial PRIMARY KEY, merchant_id int NOT NULL,
			day date NOT NULL, amount_cents bigint)`,
		`INSERT INTO payments (merchant_id, day, amount_cents)
			SELECT m, current_date - (i % 14), CASE WHEN m % 9 = 4 AND i % 14 = 3 THEN NULL ELSE 100 + (i * 37) % 9000 END
			FROM generate_series(1, 40) m, generate_series(1, 200) i`,
		`CREATE INDEX payments_merchant ON payments (merchant_id, day)`,
	}
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			return err
		}
	}
	return nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrInsufficientFunds is returned when the source account cannot cover a transfer.
var ErrInsufficientFunds = errors.New("insufficient funds")

// Entry is one line of an account's history.
type Entry struct {
	At     time.Time
	Peer   string
	Amount int64
}

// Account is a balance with its own lock, so that unrelated transfers run in
// parallel.
type Account struct {
	mu      sync.Mutex
	ID      string
	balance int64
	history []Entry
}

// Balance returns the current balance in cents.
func (a *Account) Balance() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.balance
}

// RiskChecker vets a transfer before money moves.
type RiskChecker interface {
	Check(ctx context.Context, from, to string, cents int64) error
}

// Ledger holds the accounts.
type Ledger struct {
	mu       sync.RWMutex
	accounts map[string]*Account
	risk     RiskChecker
}

// NewLedger returns an empty ledger.
func NewLedger(risk RiskChecker) *Ledger {
	return &Ledger{accounts: make(map[string]*Account), risk: risk}
}

// Open creates an account with an opening balance.
func (l *Ledger) Open(id string, cents int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.accounts[id] = &Account{ID: id, balance: cents}
}

// Account looks an account up.
func (l *Ledger) Account(id string) (*Account, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	a, ok := l.accounts[id]
	if !ok {
		return nil, fmt.Errorf("account %q not found", id)
	}
	return a, nil
}

// Transfer moves cents from one account to another.
func (l *Ledger) Transfer(ctx context.Context, fromID, toID string, cents int64) error {
	from, err := l.Account(fromID)
	if err != nil {
		return err
	}
	to, err := l.Account(toID)
	if err != nil {
		return err
	}
	if from == to {
		return errors.New("cannot transfer to the same account")
	}
	return l.settle(ctx, from, to, cents)
}

// settle moves the money under both accounts' locks.
//
// The source is locked first so that the balance cannot change while the
// risk service decides; the destination is locked second. Two opposite
// transfers between the same accounts each hold one lock and wait for the
// other's: the order of locking depends on the direction of the transfer.
func (l *Ledger) settle(ctx context.Context, from, to *Account, cents int64) error {
	from.mu.Lock()
	defer from.mu.Unlock()
	if from.balance < cents {
		return ErrInsufficientFunds
	}
	if err := l.risk.Check(ctx, from.ID, to.ID, cents); err != nil {
		return fmt.Errorf("risk check: %w", err)
	}

	to.mu.Lock()
	defer to.mu.Unlock()
	now := time.Now()
	from.balance -= cents
	to.balance += cents
	from.history = append(from.history, Entry{At: now, Peer: to.ID, Amount: -cents})
	to.history = append(to.history, Entry{At: now, Peer: from.ID, Amount: cents})
	return nil
}

// riskClient stands in for the remote risk service: it answers after a
// fixed latency.
type riskClient struct {
	latency time.Duration
}

func (r *riskClient) Check(ctx context.Context, from, to string, cents int64) error {
	t := time.NewTimer(r.latency)
	defer t.Stop()
	select {
	case <-t.C:
		if cents > 10_000_000 {
			return errors.New("amount above the automatic approval limit")
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

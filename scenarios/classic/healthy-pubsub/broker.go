package main

import (
	"encoding/json"
	"log"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Trade is one execution on an exchange.
type Trade struct {
	Symbol string
	Price  float64
	Qty    int64
	At     time.Time
}

// Broker fans trades out to the subscribers of each symbol.
type Broker struct {
	mu        sync.RWMutex
	subs      map[string][]*Subscriber
	delivered atomic.Int64
	dropped   atomic.Int64
}

// NewBroker returns a broker without subscribers.
func NewBroker() *Broker { return &Broker{subs: map[string][]*Subscriber{}} }

// Subscribe adds s to a symbol's subscribers.
func (b *Broker) Subscribe(symbol string, s *Subscriber) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.subs[symbol] = append(b.subs[symbol], s)
}

// Publish hands a trade to every subscriber of its symbol; a subscriber
// whose buffer is full misses it rather than slowing the feed down.
func (b *Broker) Publish(t Trade) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, s := range b.subs[t.Symbol] {
		select {
		case s.trades <- t:
			b.delivered.Add(1)
		default:
			b.dropped.Add(1)
		}
	}
}

// Subscriber keeps a running volume-weighted average price.
type Subscriber struct {
	name   string
	trades chan Trade
	done   chan struct{}

	mu       sync.Mutex
	notional float64
	volume   int64
	flushes  int64
}

// NewSubscriber returns a subscriber with a trade buffer of depth.
func NewSubscriber(name string, depth int) *Subscriber {
	return &Subscriber{name: name, trades: make(chan Trade, depth), done: make(chan struct{})}
}

func (s *Subscriber) run(heartbeat time.Duration) {
	hb := time.NewTicker(heartbeat)
	defer hb.Stop()
	for {
		select {
		case t := <-s.trades:
			s.mu.Lock()
			s.notional += t.Price * float64(t.Qty)
			s.volume += t.Qty
			s.mu.Unlock()
		case <-hb.C:
			s.mu.Lock()
			s.flushes++
			s.mu.Unlock()
		case <-s.done:
			return
		}
	}
}

// VWAP returns the average price so far.
func (s *Subscriber) VWAP() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.volume == 0 {
		return 0
	}
	return s.notional / float64(s.volume)
}

// FeedHandler stands in for the exchange feed: it publishes a trade every
// tick, rotating through the symbols.
type FeedHandler struct {
	broker  *Broker
	symbols []string
}

func (f *FeedHandler) run(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	n := 0
	for now := range t.C {
		sym := f.symbols[n%len(f.symbols)]
		price := 100 + 20*math.Sin(float64(n)/500) + float64(len(sym))
		f.broker.Publish(Trade{Symbol: sym, Price: price, Qty: int64(1 + n%500), At: now})
		n++
		if n%50_000 == 0 {
			log.Printf("feed: %d trades, %d dropped deliveries", n, f.broker.dropped.Load())
		}
	}
}

// MarketAPI serves the VWAP views.
type MarketAPI struct {
	views map[string]*Subscriber
}

func (a *MarketAPI) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /symbols/{sym}/vwap", a.vwap)
	return mux
}

func (a *MarketAPI) vwap(w http.ResponseWriter, r *http.Request) {
	s, ok := a.views[r.PathValue("sym")]
	if !ok {
		http.Error(w, "unknown symbol", http.StatusNotFound)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]float64{"vwap": s.VWAP()})
}

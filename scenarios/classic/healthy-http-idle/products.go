package main

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"sync"
	"time"
)

// Product is one catalog entry.
type Product struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	PriceCents int64  `json:"price_cents"`
	InStock    bool   `json:"in_stock"`
}

// productCache holds the catalog in memory, refreshed periodically.
type productCache struct {
	mu       sync.RWMutex
	products map[string]Product
	loadedAt time.Time
}

func newProductCache() *productCache {
	c := &productCache{}
	c.load()
	return c
}

func (c *productCache) load() {
	products := make(map[string]Product, 200)
	for i := range 200 {
		id := fmt.Sprintf("p-%04d", i)
		products[id] = Product{ID: id, Name: fmt.Sprintf("Widget %d", i), PriceCents: int64(499 + i*13), InStock: i%9 != 0}
	}
	c.mu.Lock()
	c.products, c.loadedAt = products, time.Now()
	c.mu.Unlock()
}

func (c *productCache) Get(id string) (Product, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	p, ok := c.products[id]
	return p, ok
}

func (c *productCache) refreshLoop(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for range t.C {
		c.load()
		log.Printf("products: cache refreshed")
	}
}

// ProductAPI is the product API's HTTP interface.
type ProductAPI struct {
	products *productCache
}

func (a *ProductAPI) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/products/{id}", a.get)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	return mux
}

func (a *ProductAPI) get(w http.ResponseWriter, r *http.Request) {
	p, ok := a.products.Get(r.PathValue("id"))
	if !ok {
		http.Error(w, "no such product", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(p)
}

package main

import (
	"context"
	"fmt"
	"log"
	"sync"
	"time"
)

// Product is a sellable item.
type Product struct {
	SKU        string
	Category   string
	PriceCents int64
}

// Promotion is a percentage off a category.
type Promotion struct {
	Category string
	Percent  int64
	Until    time.Time
}

// Quote is a price for a quantity, tax included.
type Quote struct {
	SKU        string `json:"sku"`
	Qty        int64  `json:"qty"`
	TotalCents int64  `json:"total_cents"`
}

// TaxRates answers the tax rate of a category, in basis points.
type TaxRates interface {
	RateFor(ctx context.Context, category string) (int64, error)
}

// Catalog holds products and promotions; reloads replace both at once.
type Catalog struct {
	mu         sync.RWMutex
	products   map[string]Product
	promotions []Promotion
	taxes      TaxRates
	version    int
}

// NewCatalog returns an empty catalog.
func NewCatalog(taxes TaxRates) *Catalog {
	return &Catalog{products: map[string]Product{}, taxes: taxes}
}

// Quote prices qty units of sku. It read-locks the catalog for the whole
// computation so that a reload cannot mix old prices with new promotions.
func (c *Catalog) Quote(ctx context.Context, sku string, qty int64) (Quote, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	p, ok := c.products[sku]
	if !ok {
		return Quote{}, fmt.Errorf("unknown sku %q", sku)
	}
	rate, err := c.taxes.RateFor(ctx, p.Category)
	if err != nil {
		return Quote{}, err
	}
	net := p.PriceCents * qty * (100 - c.bestPromotion(p.Category)) / 100
	return Quote{SKU: sku, Qty: qty, TotalCents: net + net*rate/10_000}, nil
}

// bestPromotion returns the largest active discount for a category.
func (c *Catalog) bestPromotion(category string) int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	now := time.Now()
	best := int64(0)
	for _, promo := range c.promotions {
		if promo.Category == category && now.Before(promo.Until) && promo.Percent > best {
			best = promo.Percent
		}
	}
	return best
}

// replace swaps in a new product list and promotions.
func (c *Catalog) replace(products []Product, promotions []Promotion) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.products = make(map[string]Product, len(products))
	for _, p := range products {
		c.products[p.SKU] = p
	}
	c.promotions = promotions
	c.version++
}

// reloadLoop pulls the price feed periodically.
func (c *Catalog) reloadLoop(feed *priceFeed, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for range t.C {
		products, promotions := feed.Load()
		c.replace(products, promotions)
		if c.version%100 == 0 {
			log.Printf("catalog: reloaded %d times", c.version)
		}
	}
}

// priceFeed stands in for the merchandising system's export.
type priceFeed struct{ n int64 }

func (f *priceFeed) Load() ([]Product, []Promotion) {
	f.n++
	products := []Product{
		{SKU: "sku-kettle-1l", Category: "kitchen", PriceCents: 3499 + f.n%7},
		{SKU: "sku-toaster-2s", Category: "kitchen", PriceCents: 2599},
		{SKU: "sku-desk-lamp", Category: "lighting", PriceCents: 1899},
		{SKU: "sku-usb-cable", Category: "electronics", PriceCents: 799},
	}
	promotions := []Promotion{{Category: "kitchen", Percent: 10, Until: time.Now().Add(time.Hour)}}
	return products, promotions
}

// taxClient stands in for the remote tax service.
type taxClient struct{ latency time.Duration }

func (t *taxClient) RateFor(ctx context.Context, category string) (int64, error) {
	timer := time.NewTimer(t.latency)
	defer timer.Stop()
	select {
	case <-timer.C:
		if category == "electronics" {
			return 1900, nil
		}
		return 700, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// A product catalog and cart service on gin, backed by PostgreSQL with a redis read-through
// cache, under steady traffic. Nothing is wrong with it: every request completes.
package main

import (
	"database/sql"
	"errors"
	"log"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gomodule/redigo/redis"
	_ "github.com/lib/pq"

	"hangdoc.test/scenarios/incidents/internal/ops"
	"hangdoc.test/scenarios/incidents/internal/peer"
)

func main() {
	if peer.Serve(nil) {
		return
	}
	log.SetOutput(os.Stderr)
	pprofAddr := ops.StartDebugServer()
	redisAddr, dsn := os.Getenv("REDIS_ADDR"), os.Getenv("PG_DSN")
	if redisAddr == "" || dsn == "" {
		ops.Fatalf("REDIS_ADDR and PG_DSN must be set")
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		ops.Fatalf("open database: %v", err)
	}
	db.SetMaxOpenConns(10)
	db.SetMaxIdleConns(10)
	if err := migrate(db); err != nil {
		ops.Fatalf("migrate: %v", err)
	}
	cache := &redis.Pool{
		MaxIdle: 16, MaxActive: 32, Wait: true, IdleTimeout: time.Minute,
		Dial: func() (redis.Conn, error) {
			return redis.Dial("tcp", redisAddr, redis.DialConnectTimeout(2*time.Second),
				redis.DialReadTimeout(2*time.Second), redis.DialWriteTimeout(2*time.Second))
		},
	}
	cat := &Catalog{db: db, cache: cache}

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery())
	r.GET("/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	r.GET("/v1/products/:sku", cat.product)
	r.POST("/v1/carts/:user/items", cat.addToCart)
	ln := ops.Listen()
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 30 * time.Second}
	go func() { log.Println(srv.Serve(ln)) }()
	go cat.warmLoop(time.Second)

	base := "http://" + ln.Addr().String()
	if err := peer.StartLoad(
		peer.Job{URL: base + "/v1/products/{n}", Spread: 300, Concurrency: 8, TimeoutMS: 5000, IntervalMS: 20},
		peer.Job{URL: base + "/v1/carts/u{n}/items", Method: http.MethodPost, Body: `{"sku":7,"qty":1}`,
			Spread: 50, Concurrency: 6, TimeoutMS: 5000, IntervalMS: 40},
		peer.Job{URL: base + "/healthz", Concurrency: 1, TimeoutMS: 1000, IntervalMS: 500},
	); err != nil {
		ops.Fatalf("load: %v", err)
	}
	ops.AnnounceReady(pprofAddr, ln.Addr().String(), 90*time.Second, func() bool {
		return cat.served.Load() >= 1000
	})
	select {}
}

// Catalog serves products and carts.
type Catalog struct {
	db     *sql.DB
	cache  *redis.Pool
	served atomic.Int64
}

func (c *Catalog) product(ctx *gin.Context) {
	defer c.served.Add(1)
	sku, err := strconv.Atoi(ctx.Param("sku"))
	if err != nil {
		ctx.String(http.StatusBadRequest, "bad sku")
		return
	}
	name, err := c.productName(sku)
	if errors.Is(err, sql.ErrNoRows) {
		ctx.String(http.StatusNotFound, "no such product")
		return
	}
	if err != nil {
		ctx.String(http.StatusInternalServerError, err.Error())
		return
	}
	ctx.JSON(http.StatusOK, gin.H{"sku": sku, "name": name, "price": quotePrice(sku)})
}

func (c *Catalog) productName(sku int) (string, error) {
	conn := c.cache.Get()
	defer conn.Close()
	key := "product:" + strconv.Itoa(sku)
	if name, err := redis.String(conn.Do("GET", key)); err == nil {
		return name, nil
	}
	var name string
	if err := c.db.QueryRow(`SELECT name FROM products WHERE sku = $1`, sku).Scan(&name); err != nil {
		return "", err
	}
	_, _ = conn.Do("SET", key, name, "EX", 5)
	return name, nil
}

func (c *Catalog) addToCart(ctx *gin.Context) {
	defer c.served.Add(1)
	var item struct {
		SKU int `json:"sku"`
		Qty int `json:"qty"`
	}
	if err := ctx.BindJSON(&item); err != nil {
		return
	}
	tx, err := c.db.BeginTx(ctx.Request.Context(), nil)
	if err != nil {
		ctx.String(http.StatusServiceUnavailable, err.Error())
		return
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	if _, err := tx.Exec(`UPDATE stock SET reserved = reserved + $2 WHERE sku = $1`, item.SKU, item.Qty); err != nil {
		ctx.String(http.StatusInternalServerError, err.Error())
		return
	}
	if _, err := tx.Exec(`INSERT INTO cart_items (user_id, sku, qty) VALUES ($1, $2, $3)`,
		ctx.Param("user"), item.SKU, item.Qty); err != nil {
		ctx.String(http.StatusInternalServerError, err.Error())
		return
	}
	if err := tx.Commit(); err != nil {
		ctx.String(http.StatusInternalServerError, err.Error())
		return
	}
	ctx.Status(http.StatusCreated)
}

// warmLoop keeps the most popular products cached.
func (c *Catalog) warmLoop(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for range t.C {
		for sku := 1; sku <= 10; sku++ {
			_, _ = c.productName(sku)
		}
	}
}

// quotePrice stands in for the pricing service, a few milliseconds away.
func quotePrice(sku int) int {
	time.Sleep(time.Duration(2+rand.IntN(8)) * time.Millisecond)
	return 100 + sku%50
}

func migrate(db *sql.DB) error {
	for _, q := range []string{
		`DROP TABLE IF EXISTS products, cart_items, stock`,
		`CREATE TABLE stock (sku int PRIMARY KEY, reserved bigint NOT NULL DEFAULT 0)`,
		`INSERT INTO stock SELECT i FROM generate_series(1, 250) i`,
		`CREATE TABLE products (sku int PRIMARY KEY, name text NOT NULL)`,
		`INSERT INTO products SELECT i, 'product ' || i FROM generate_series(1, 250) i`,
		`CREATE TABLE cart_items (id bigserial PRIMARY KEY, user_id text NOT NULL, sku int NOT NULL, qty int NOT NULL)`,
	} {
		if _, err := db.Exec(q); err != nil {
			return err
		}
	}
	return nil
}

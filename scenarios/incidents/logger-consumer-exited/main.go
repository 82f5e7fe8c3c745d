// A coupon service on gin: look up coupons, redeem them, answer health checks. Every request
// is traced to a file by middleware through an asynchronous file sink.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"hangdoc.test/scenarios/incidents/internal/ops"
	"hangdoc.test/scenarios/incidents/internal/peer"
	"hangdoc.test/scenarios/incidents/logger-consumer-exited/tracelog"
)

func main() {
	if peer.Serve(map[string]func([]string){"logship": runLogShipper}) {
		return
	}
	log.SetOutput(os.Stderr)
	pprofAddr := ops.StartDebugServer()

	logDir, err := os.MkdirTemp("", "coupon-api-logs-")
	if err != nil {
		ops.Fatalf("log dir: %v", err)
	}
	sink, err := tracelog.NewFileSink(filepath.Join(logDir, "coupon-api.trace.log"), 128, 2*time.Second)
	if err != nil {
		ops.Fatalf("trace sink: %v", err)
	}
	// The node's log shipper collects finished trace files from the same directory.
	if _, err := peer.Spawn("logship", logDir); err != nil {
		ops.Fatalf("log shipper: %v", err)
	}

	gin.SetMode(gin.ReleaseMode)
	store := NewCouponStore()
	var inflight atomic.Int64
	r := gin.New()
	r.Use(func(c *gin.Context) {
		inflight.Add(1)
		defer inflight.Add(-1)
		c.Next()
	}, gin.Recovery(), Trace(sink))
	r.GET("/v1/healthCheck", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	r.GET("/v1/coupons/:code", store.Get)
	r.POST("/v1/coupons/:code/redeem", store.Redeem)

	ln := ops.Listen()
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go func() { log.Println(srv.Serve(ln)) }()

	base := "http://" + ln.Addr().String()
	if err := peer.StartLoad(
		peer.Job{URL: base + "/v1/coupons/C{n}", Spread: 500, Concurrency: 24,
			TimeoutMS: 2000, IntervalMS: 5, MaxFailures: 200, TrickleMS: 400},
		peer.Job{URL: base + "/v1/coupons/C{n}/redeem", Method: http.MethodPost, Body: `{"user":"u1"}`,
			Spread: 500, Concurrency: 6, TimeoutMS: 2000, IntervalMS: 20, MaxFailures: 40},
		peer.Job{URL: base + "/v1/healthCheck", Concurrency: 1, TimeoutMS: 1000, IntervalMS: 500},
	); err != nil {
		ops.Fatalf("load: %v", err)
	}
	ops.AnnounceReady(pprofAddr, ln.Addr().String(), 90*time.Second, func() bool {
		return sink.RotateErrors.Load() > 0 && inflight.Load() >= 200
	})
	select {}
}

// Trace records every request through the trace sink once it has been handled.
func Trace(sink *tracelog.FileSink) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		sink.Emit(&tracelog.Record{
			At: start, Method: c.Request.Method, Path: c.Request.URL.Path,
			Status: c.Writer.Status(), Latency: time.Since(start), TraceID: c.GetHeader("X-Trace-Id"),
		})
	}
}

// CouponStore keeps coupons in memory.
type CouponStore struct {
	mu       sync.RWMutex
	redeemed map[string]int
}

// NewCouponStore returns an empty store.
func NewCouponStore() *CouponStore { return &CouponStore{redeemed: map[string]int{}} }

// Get returns a coupon.
func (s *CouponStore) Get(c *gin.Context) {
	code := c.Param("code")
	s.mu.RLock()
	n := s.redeemed[code]
	s.mu.RUnlock()
	c.JSON(http.StatusOK, gin.H{"code": code, "discount": 5 + len(code)%20, "redeemed": n})
}

// Redeem marks a coupon used once more.
func (s *CouponStore) Redeem(c *gin.Context) {
	code := c.Param("code")
	s.mu.Lock()
	s.redeemed[code]++
	n := s.redeemed[code]
	s.mu.Unlock()
	c.JSON(http.StatusOK, gin.H{"code": code, "redeemed": strconv.Itoa(n)})
}

// runLogShipper is the node's log collector, a separate process: shortly after start it moves
// the service's current trace file into its spool directory for upload.
func runLogShipper(args []string) {
	dir := args[0]
	spool := filepath.Join(dir, "shipped")
	_ = os.MkdirAll(spool, 0o755)
	time.Sleep(1200 * time.Millisecond)
	matches, _ := filepath.Glob(filepath.Join(dir, "*.trace.log"))
	for _, m := range matches {
		if err := os.Rename(m, filepath.Join(spool, filepath.Base(m))); err != nil {
			fmt.Fprintln(os.Stderr, "logship:", err)
		}
	}
	select {}
}

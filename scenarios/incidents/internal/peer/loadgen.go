package peer

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Job describes one stream of client traffic against the service.
type Job struct {
	// URL is requested as is; every "{n}" in it is replaced by a random number in [1, Spread].
	URL    string `json:"url"`
	Method string `json:"method,omitempty"`
	Body   string `json:"body,omitempty"`
	Spread int    `json:"spread,omitempty"`
	// Concurrency is the number of clients issuing requests one after another.
	Concurrency int `json:"concurrency"`
	// TimeoutMS makes a client give up (and close its connection) after that long; 0 waits forever.
	TimeoutMS int `json:"timeout_ms,omitempty"`
	// IntervalMS is each client's pause between requests.
	IntervalMS int `json:"interval_ms,omitempty"`
	// MaxRequests caps the requests of the whole job (0: no cap). Once reached, one request
	// every TrickleMS keeps going (0: none), so successive snapshots still see traffic.
	MaxRequests int `json:"max_requests,omitempty"`
	TrickleMS   int `json:"trickle_ms,omitempty"`
	// MaxFailures stops the job's clients (then trickles) once that many requests failed or
	// timed out (0: no cap): clients of a stuck service give up.
	MaxFailures int `json:"max_failures,omitempty"`
	// Stream holds each request open, reading the response body until it ends.
	Stream bool `json:"stream,omitempty"`
}

// StartLoad spawns one load-generator process running all jobs.
func StartLoad(jobs ...Job) error {
	args := make([]string, 0, len(jobs))
	for _, j := range jobs {
		enc, err := json.Marshal(j)
		if err != nil {
			return err
		}
		args = append(args, string(enc))
	}
	_, err := Spawn("loadgen", args...)
	return err
}

func runLoadgen(args []string) {
	var wg sync.WaitGroup
	for _, a := range args {
		var j Job
		if err := json.Unmarshal([]byte(a), &j); err != nil {
			fmt.Fprintf(os.Stderr, "loadgen: bad job %s: %v\n", a, err)
			os.Exit(2)
		}
		wg.Add(1)
		go func() { defer wg.Done(); j.run() }()
	}
	wg.Wait()
	select {} // keep the process (and its closed-by-timeout sockets) until the parent goes
}

func (j Job) run() {
	client := &http.Client{
		Timeout: time.Duration(j.TimeoutMS) * time.Millisecond,
		Transport: &http.Transport{
			MaxIdleConnsPerHost: max(j.Concurrency, 2),
			DisableCompression:  true,
		},
	}
	var issued, failed atomic.Int64
	var wg sync.WaitGroup
	for range max(j.Concurrency, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j.MaxRequests == 0 || issued.Add(1) <= int64(j.MaxRequests) {
				if j.MaxFailures > 0 && failed.Load() >= int64(j.MaxFailures) {
					break
				}
				if !j.once(client) {
					failed.Add(1)
				}
				if j.Stream {
					time.Sleep(time.Second) // reconnect after the stream ended
				}
				time.Sleep(time.Duration(j.IntervalMS) * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	if j.TrickleMS <= 0 {
		return
	}
	for {
		go j.once(client)
		time.Sleep(time.Duration(j.TrickleMS) * time.Millisecond)
	}
}

// once issues one request and reports whether it completed.
func (j Job) once(client *http.Client) bool {
	url := j.URL
	for strings.Contains(url, "{n}") {
		url = strings.Replace(url, "{n}", fmt.Sprint(1+rand.IntN(max(j.Spread, 1))), 1)
	}
	method := j.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if j.Body != "" {
		body = strings.NewReader(j.Body)
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return false
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	_, err = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return err == nil
}

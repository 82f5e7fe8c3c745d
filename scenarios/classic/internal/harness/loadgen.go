package harness

import (
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// targetEnv names the service address for the child process that generates
// the client load; its presence is what makes a scenario binary a load
// generator.
const targetEnv = "HANGDOC_LOADGEN_TARGET"

// LoadgenTarget reports whether this process is a scenario's load generator,
// and if so the service address it must drive.
func LoadgenTarget() (string, bool) {
	t := os.Getenv(targetEnv)
	if t == "" {
		return "", false
	}
	go exitWithParent()
	return t, true
}

// StartLoad re-executes the running binary as the load generator for target.
// The child dies with the service (SIGKILL on parent death, and it watches
// its parent too), shares its process group, and writes nothing to stdout so
// the READY line stays the only line there.
func StartLoad(target string) {
	self, err := os.Executable()
	if err != nil {
		log.Fatalf("load generator: %v", err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), targetEnv+"="+target)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		log.Fatalf("load generator: %v", err)
	}
	// Not waited for: a goroutine in Wait would show in every dump of the
	// service. The child only exits when the service does.
	_ = cmd.Process.Release()
}

func exitWithParent() {
	parent := os.Getppid()
	for range time.Tick(200 * time.Millisecond) {
		if os.Getppid() != parent {
			os.Exit(0)
		}
	}
}

// Client returns an HTTP client for the load generator. timeout 0 means the
// client waits as long as the service takes, which is what keeps the number
// of stuck requests fixed once a service hangs.
func Client(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
}

// Call sends one request and drains the answer; errors are only logged,
// since a load generator has no one to report them to.
func Call(c *http.Client, method, url string, body io.Reader) int {
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		log.Printf("loadgen: %v", err)
		return 0
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// Forever keeps the load generator alive after its load is issued.
func Forever() { select {} }

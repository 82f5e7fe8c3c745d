// Package expect writes the *.expect.json files that sit beside each captured dump: what the
// program that produced the dump knows it created, never what was read back from the dump.
// tests/fixtures/README.md documents the fields.
package expect

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// Category is a set of goroutines the program started for one reason; all of them have
// Function somewhere in their stack and no goroutine outside the set has.
type Category struct {
	Function string `json:"function"`
	Count    int    `json:"count"`
	// State is the status text in the goroutine header; only for per-goroutine formats.
	State string `json:"state,omitempty"`
	// Labels is set (possibly empty) only when the format carries pprof labels.
	Labels *map[string]string `json:"labels,omitempty"`
	// Locked: the header says ", locked to thread".
	Locked bool `json:"locked,omitempty"`
	// Leaked: the header says "(leaked)" (per-goroutine formats after a leak check).
	Leaked bool `json:"leaked,omitempty"`
	// Inlined: the frame of Function is marked inlined.
	Inlined bool `json:"inlined,omitempty"`
	// Elided: the stack is too deep to print whole; an elision marker is expected.
	Elided bool `json:"elided,omitempty"`
	// CreatedBy is the function of the "created by" line.
	CreatedBy string `json:"created_by,omitempty"`
	// ParentFunction: the goroutine named by "in goroutine N" has this function in its stack.
	ParentFunction string `json:"parent_function,omitempty"`
	// AncestorFunctions: each appears in some "[originating from goroutine N]" section.
	AncestorFunctions []string `json:"ancestor_functions,omitempty"`
	// MinWaitMinutes: the header shows at least this many minutes of waiting.
	MinWaitMinutes int `json:"min_wait_minutes,omitempty"`
}

// File is one *.expect.json.
type File struct {
	File   string `json:"file"`
	Format string `json:"format"`
	Go     string `json:"go"`
	// Program and Command say how the fixture was made.
	Program string `json:"program"`
	Command string `json:"command,omitempty"`
	// Goroutines is the number of goroutines the dump describes; with GoroutinesExact false
	// it is a lower bound (the dump also lists runtime or test-harness goroutines).
	Goroutines      int  `json:"goroutines"`
	GoroutinesExact bool `json:"goroutines_exact"`
	// LabelsInDump false means no goroutine in the dump carries labels.
	LabelsInDump bool `json:"labels_in_dump"`
	// Preamble: the first non-empty line of the dump starts with this text.
	Preamble   string     `json:"preamble,omitempty"`
	Categories []Category `json:"categories"`
	Notes      string     `json:"notes,omitempty"`
}

// GoVersion is the runtime's version without the "go" prefix or an experiment suffix
// ("go1.26.8-X:goroutineleakprofile" is 1.26.8).
func GoVersion() string {
	v := strings.TrimPrefix(runtime.Version(), "go")
	if i := strings.IndexAny(v, " +-"); i >= 0 {
		v = v[:i]
	}
	return v
}

// Minor is the minor release number (21 for 1.21.13); 0 when unknown.
func Minor() int {
	parts := strings.Split(GoVersion(), ".")
	if len(parts) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(parts[1])
	return n
}

// WaitGroupState is how the runtime names a WaitGroup.Wait: its own reason since 1.24,
// a plain semaphore wait before.
func WaitGroupState() string {
	if Minor() >= 24 {
		return "sync.WaitGroup.Wait"
	}
	return "semacquire"
}

// Write stores f as path, creating its directory.
func Write(path string, f File) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // commands contain `2> dump`
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// CallerName is the function that called CallerName, as the runtime names it (closures
// get compiler-chosen names that differ between releases, so the program asks).
//
//go:noinline
func CallerName() string {
	pc := make([]uintptr, 1)
	if runtime.Callers(2, pc) == 0 {
		return "?"
	}
	fr, _ := runtime.CallersFrames(pc).Next()
	return fr.Function
}

// WriteFor stores f as the expectation of the fixture at path fixture: the fixture's name
// without its extension (and a .pb before .gz), plus ".expect.json".
func WriteFor(fixture string, f File) error {
	f.File = filepath.Base(fixture)
	stem := strings.TrimSuffix(fixture, ".gz")
	stem = strings.TrimSuffix(stem, filepath.Ext(stem))
	return Write(stem+".expect.json", f)
}

// Command zoo starts a known population of parked goroutines — one group per way a
// goroutine can block — and then emits goroutine evidence about itself, with an
// *.expect.json beside each file saying what it started.
//
// Modes:
//
//	profiles  pprof goroutine profile at debug=2, debug=1 and debug=0 (gzipped protobuf),
//	          plus the expectations for `go tool pprof -traces` of that protobuf
//	sigquit   writes the expectation, prints READY and sleeps: the caller sends SIGQUIT and
//	          keeps the runtime's dump from stderr
//	panic     writes the expectation and panics (run with GOTRACEBACK=all)
//	leak      adds goroutines blocked forever on channels nothing else can reach and writes
//	          the goroutineleak profile at debug=2, debug=1 and debug=0 (Go 1.27, or 1.26
//	          built with GOEXPERIMENT=goroutineleakprofile)
//	minutes   sleeps 61 s and forces GCs so the debug=2 headers carry ", N minutes"
package main

import (
	"bufio"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"hangdoc/scenarios/formats/internal/expect"
)

var (
	mode    = flag.String("mode", "profiles", "profiles | sigquit | panic | leak | minutes")
	outDir  = flag.String("out", "tests/fixtures", "fixture root; files go to <out>/<format dir>/<name>.<ext>")
	name    = flag.String("name", "", "file stem, e.g. go1.27.3-zoo (default: go<version>-zoo)")
	only    = flag.String("only", "", "profiles mode: write only this format (debug2)")
	dirFlag = flag.String("dir", "", "put every file in <out>/<dir> instead of the format's own directory")
	expPath = flag.String("expect", "", "sigquit/panic modes: path of the dump the caller captures")
	command = flag.String("command", "", "how the fixture was made, recorded in the expectation")
)

func main() {
	flag.Parse()
	if *name == "" {
		*name = "go" + expect.GoVersion() + "-zoo"
	}
	p := spawnPopulation()
	if *mode == "leak" {
		spawnLeakers(p)
	}
	awaitParked(p.started + 1)
	switch *mode {
	case "profiles":
		writeProfiles(p)
	case "minutes":
		waitMinutes(p)
	case "leak":
		writeLeakProfiles(p)
	case "sigquit":
		awaitSignal(p)
	case "panic":
		panicNow(p)
	default:
		fail(fmt.Errorf("unknown mode %q", *mode))
	}
}

func path(dir, ext string) string {
	if *dirFlag != "" {
		dir = *dirFlag
	}
	return filepath.Join(*outDir, dir, *name+ext)
}

// writeProfiles is the goroutine that writes the profiles: it appears in them as running.
//
//go:noinline
func writeProfiles(p *population) {
	self := expect.Category{Function: "main.writeProfiles", Count: 1, State: "running", CreatedBy: ""}
	notes := "pprof.Lookup(\"goroutine\").WriteTo(f, %d) from the zoo itself"
	emit(path("debug2", ".txt"), 2, false)
	save(path("debug2", ".txt"), traceback(p, self, "goroutine-debug2", true, fmt.Sprintf(notes, 2)))
	if *only == "debug2" {
		return
	}
	emit(path("debug1", ".txt"), 1, false)
	save(path("debug1", ".txt"), aggregated(p, self, "goroutine-debug1", false, fmt.Sprintf(notes, 1)))
	emit(path("proto", ".pb.gz"), 0, false)
	gunzipCheck(path("proto", ".pb.gz"))
	save(path("proto", ".pb.gz"), aggregated(p, self, "pprof-proto", true, fmt.Sprintf(notes, 0)))
	save(path("traces", ".txt"), aggregated(p, self, "pprof-traces", true,
		"go tool pprof -traces of "+filepath.Join("proto", *name+".pb.gz")+", run with the same Go"))
	save(path("traces", "-lines.txt"), aggregated(p, self, "pprof-traces", true,
		"go tool pprof -traces -lines of "+filepath.Join("proto", *name+".pb.gz")+", run with the same Go"))
}

// waitMinutes lets the population wait long enough, across enough GC cycles, for the
// runtime to print how many minutes each goroutine has been blocked.
//
//go:noinline
func waitMinutes(p *population) {
	// The first GC after a goroutine parks stamps its wait start; the header shows minutes
	// once a minute has passed since that stamp.
	for i := 0; i < 2; i++ {
		runtime.GC()
	}
	time.Sleep(61 * time.Second)
	for i := 0; i < 2; i++ {
		runtime.GC()
	}
	self := expect.Category{Function: "main.waitMinutes", Count: 1, State: "running"}
	e := traceback(p, self, "goroutine-debug2", true,
		"pprof.Lookup(\"goroutine\").WriteTo(f, 2) after two forced GCs, 61 s of waiting and two more GCs: blocked goroutines carry \", 1 minutes\"")
	for i := range e.Categories {
		if e.Categories[i].Function != self.Function && e.Categories[i].State != "running" {
			e.Categories[i].MinWaitMinutes = 1
		}
	}
	emit(path("debug2", ".txt"), 2, false)
	save(path("debug2", ".txt"), e)
}

// awaitSignal parks the main goroutine until the caller's SIGQUIT ends the process.
//
//go:noinline
func awaitSignal(p *population) {
	self := expect.Category{Function: "main.awaitSignal", Count: 1, State: "sleep"}
	e := traceback(p, self, "goroutine-debug2", false,
		"SIGQUIT to the running zoo; its stderr. The dump is at level 2, so it also lists runtime goroutines and goroutine 0: the count is a lower bound")
	e.Preamble = "SIGQUIT: quit"
	saveAt(*expPath, e)
	fmt.Println("READY")
	time.Sleep(time.Hour)
}

// panicNow panics with the population parked; GOTRACEBACK=all makes the runtime list them.
//
//go:noinline
func panicNow(p *population) {
	self := expect.Category{Function: "main.panicNow", Count: 1, State: "running"}
	e := traceback(p, self, "goroutine-debug2", true, "unrecovered panic of the zoo under GOTRACEBACK=all; its stderr")
	e.Preamble = "panic: zoo: deliberate panic with the population parked"
	if ancestorsOn() {
		e.Notes += "; GODEBUG=tracebackancestors=5 adds [originating from goroutine N] sections"
	} else {
		for i := range e.Categories {
			e.Categories[i].AncestorFunctions = nil
		}
	}
	saveAt(*expPath, e)
	panic("zoo: deliberate panic with the population parked")
}

// emit writes the goroutine profile at debug level d to file.
func emit(file string, d int, leak bool) {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		fail(err)
	}
	f, err := os.Create(file)
	if err != nil {
		fail(err)
	}
	profile := "goroutine"
	if leak {
		profile = "goroutineleak"
	}
	prof := pprof.Lookup(profile)
	if prof == nil {
		fail(fmt.Errorf("this Go has no %s profile", profile))
	}
	if err := prof.WriteTo(f, d); err != nil {
		fail(err)
	}
	if err := f.Close(); err != nil {
		fail(err)
	}
}

func save(fixture string, e expect.File) { saveAt(fixture, e) }

// saveAt writes the expectation for the fixture at path fixture.
func saveAt(fixture string, e expect.File) {
	if fixture == "" {
		fail(fmt.Errorf("-expect is required in this mode"))
	}
	e.Command = *command
	if err := expect.WriteFor(fixture, e); err != nil {
		fail(err)
	}
}

// traceback is the expectation for a per-goroutine dump of the population plus self.
func traceback(p *population, self expect.Category, format string, exact bool, notes string) expect.File {
	labels := labelsInTraceback()
	cats := []expect.Category{self}
	for _, c := range p.cats {
		if !labels {
			c.Labels = nil
		} else if c.Labels == nil {
			c.Labels = &map[string]string{}
		}
		if !ancestorsOn() {
			c.AncestorFunctions = nil
		}
		cats = append(cats, c)
	}
	if labels && self.Labels == nil {
		cats[0].Labels = &map[string]string{}
	}
	return expect.File{
		Format: format, Go: expect.GoVersion(), Program: "zoo",
		Goroutines: p.started + 1, GoroutinesExact: exact, LabelsInDump: labels,
		Categories: cats, Notes: notes,
	}
}

// aggregated is the expectation for a profile that groups goroutines by stack: no states,
// no creators, labels always.
func aggregated(p *population, self expect.Category, format string, inlined bool, notes string) expect.File {
	var cats []expect.Category
	for _, c := range append([]expect.Category{self}, p.cats...) {
		labels := map[string]string{}
		if c.Labels != nil {
			labels = *c.Labels
		}
		cats = append(cats, expect.Category{
			Function: c.Function, Count: c.Count, Labels: &labels, Inlined: c.Inlined && inlined,
		})
	}
	return expect.File{
		Format: format, Go: expect.GoVersion(), Program: "zoo",
		Goroutines: p.started + 1, GoroutinesExact: true, LabelsInDump: true,
		Categories: cats, Notes: notes,
	}
}

// godebug is the effective value of a GODEBUG setting: the environment wins over the
// default the build embedded (from the main module's go line), which wins over fallback.
func godebug(key, fallback string) string {
	val, found := fallback, false
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "DefaultGODEBUG" {
				if v, ok := lookupSetting(s.Value, key); ok {
					val, found = v, true
				}
			}
		}
	}
	_ = found
	if v, ok := lookupSetting(os.Getenv("GODEBUG"), key); ok {
		val = v
	}
	return val
}

func lookupSetting(list, key string) (string, bool) {
	val, ok := "", false
	for _, kv := range strings.Split(list, ",") {
		if k, v, cut := strings.Cut(strings.TrimSpace(kv), "="); cut && k == key {
			val, ok = v, true // the last one wins, as in the runtime
		}
	}
	return val, ok
}

// labelsInTraceback says whether this runtime prints pprof labels in goroutine headers:
// Go 1.26 when asked with GODEBUG=tracebacklabels=1, Go 1.27+ unless the module's go line
// (or GODEBUG) turns it off.
func labelsInTraceback() bool {
	minor := expect.Minor()
	if minor < 26 {
		return false
	}
	fallback := "0"
	if minor >= 27 {
		fallback = "1"
	}
	return godebug("tracebacklabels", fallback) == "1"
}

func ancestorsOn() bool {
	n, _ := strconv.Atoi(godebug("tracebackancestors", "0"))
	return n > 0
}

// gunzipCheck fails when file is not a readable gzip stream (a cheap sanity check on what
// WriteTo(f, 0) produced).
func gunzipCheck(file string) {
	f, err := os.Open(file)
	if err != nil {
		fail(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		fail(fmt.Errorf("%s: %w", file, err))
	}
	if _, err := io.Copy(io.Discard, zr); err != nil {
		fail(fmt.Errorf("%s: %w", file, err))
	}
}

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// event is one line of `go test -json` (cmd/test2json), with the build events of go 1.24+.
type event struct {
	Time        time.Time
	Action      string
	Package     string
	Test        string
	Elapsed     float64
	Output      string
	ImportPath  string
	FailedBuild string
}

// testState is what is known of one test so far.
type testState struct {
	pkg, name string
	started   time.Time
	result    string // "", pass, fail or skip
	reason    string // why it skipped
	output    []string
}

// report accumulates events and prints as packages finish.
type report struct {
	out     io.Writer
	allowed allowList

	mu        sync.Mutex
	tests     map[string]*testState // by "pkg test"
	pkgOutput map[string][]string   // package-level output (build errors, panics, summary)
	buildOut  map[string][]string   // compiler output by import path
	passed    int
	failed    int
	skipped   int
	badSkips  []*testState
	failPkgs  []string
	usedAllow map[string]bool
}

func newReport(out io.Writer, allowed allowList) *report {
	return &report{out: out, allowed: allowed, tests: map[string]*testState{},
		pkgOutput: map[string][]string{}, buildOut: map[string][]string{}, usedAllow: map[string]bool{}}
}

// read consumes the event stream; lines that are not events are printed as they are.
func (r *report) read(in io.Reader) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			r.mu.Lock()
			fmt.Fprintln(r.out, string(line))
			r.mu.Unlock()
			continue
		}
		r.handle(e)
	}
	return sc.Err()
}

func (r *report) handle(e event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case e.Action == "build-output":
		r.buildOut[e.ImportPath] = append(r.buildOut[e.ImportPath], e.Output)
	case e.Action == "build-fail":
	case e.Test != "":
		r.handleTest(e)
	default:
		r.handlePackage(e)
	}
}

func (r *report) handleTest(e event) {
	key := e.Package + " " + e.Test
	ts := r.tests[key]
	if ts == nil {
		ts = &testState{pkg: e.Package, name: e.Test, started: e.Time}
		r.tests[key] = ts
	}
	switch e.Action {
	case "output":
		ts.output = append(ts.output, e.Output)
	case "pass":
		ts.result = "pass"
		r.passed++
	case "fail":
		ts.result = "fail"
		r.failed++
		fmt.Fprintf(r.out, "--- FAIL: %s %s (%.1fs)\n%s", short(e.Package), e.Test, e.Elapsed, indent(ts.output))
	case "skip":
		ts.result = "skip"
		r.skipped++
		reason := skipReason(ts.output)
		ts.reason = reason
		if why, ok := r.allowed.allows(e.Package, e.Test); ok {
			r.usedAllow[e.Package+" "+e.Test] = true
			fmt.Fprintf(r.out, "--- SKIP (allowed: %s): %s %s: %s\n", why, short(e.Package), e.Test, reason)
		} else {
			r.badSkips = append(r.badSkips, ts)
			fmt.Fprintf(r.out, "--- SKIP: %s %s: %s\n", short(e.Package), e.Test, reason)
		}
	}
	if ts.result != "" && ts.result != "fail" {
		ts.output = nil // keep memory flat on long runs
	}
}

// handlePackage prints one line when a package is done; a failed package also gets its own
// output (build errors, panics, timeouts) and the tests it left unfinished.
func (r *report) handlePackage(e event) {
	switch e.Action {
	case "output":
		r.pkgOutput[e.Package] = append(r.pkgOutput[e.Package], e.Output)
	case "pass":
		fmt.Fprintf(r.out, "ok    %s (%.1fs)\n", short(e.Package), e.Elapsed)
		delete(r.pkgOutput, e.Package)
	case "skip":
		delete(r.pkgOutput, e.Package) // no test files
	case "fail":
		r.failPkgs = append(r.failPkgs, e.Package)
		unfinished := 0
		for _, ts := range r.tests {
			if ts.pkg == e.Package && ts.result == "" {
				ts.result = "fail"
				unfinished++
				r.failed++
				fmt.Fprintf(r.out, "--- FAIL (did not finish): %s %s\n%s", short(ts.pkg), ts.name, indent(ts.output))
			}
		}
		var lines []string
		if e.FailedBuild != "" {
			lines = r.buildOut[e.FailedBuild]
		}
		lines = append(lines, r.pkgOutput[e.Package]...)
		fmt.Fprintf(r.out, "FAIL  %s (%.1fs)\n%s", short(e.Package), e.Elapsed, indent(lines))
		delete(r.pkgOutput, e.Package)
	}
}

// heartbeat names the tests that have been running longest, so a slow CI run is visibly alive.
func (r *report) heartbeat(every time.Duration, done <-chan struct{}) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			r.mu.Lock()
			var running []*testState
			for _, ts := range r.tests {
				if ts.result == "" && !strings.Contains(ts.name, "/") {
					running = append(running, ts)
				}
			}
			sort.Slice(running, func(i, j int) bool { return running[i].started.Before(running[j].started) })
			var names []string
			for _, ts := range running {
				names = append(names, fmt.Sprintf("%s (%s)", ts.name, time.Since(ts.started).Round(time.Second)))
			}
			if len(names) > 0 {
				fmt.Fprintf(r.out, "... %d passed so far; running: %s\n", r.passed, strings.Join(names, ", "))
			}
			r.mu.Unlock()
		}
	}
}

// finish prints what must be acted on and the summary line, and reports whether the run is
// green: nothing failed and every skip is allowed.
func (r *report) finish() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	// A package that failed without any failed test (it did not build, or its TestMain
	// exited) still fails the count.
	pkgOnly := 0
	for _, p := range r.failPkgs {
		failedTest := false
		for _, ts := range r.tests {
			if ts.pkg == p && ts.result == "fail" {
				failedTest = true
				break
			}
		}
		if !failedTest {
			pkgOnly++
		}
	}
	if len(r.badSkips) > 0 {
		fmt.Fprintf(r.out, "\n%d tests skipped that are not listed as allowed to skip (a green run means every test ran):\n", len(r.badSkips))
		for _, ts := range r.badSkips {
			fmt.Fprintf(r.out, "  %s %s: %s\n", short(ts.pkg), ts.name, ts.reason)
		}
	}
	var stale []string
	for key := range r.allowed {
		if !r.usedAllow[key] {
			stale = append(stale, key)
		}
	}
	sort.Strings(stale)
	for _, key := range stale {
		fmt.Fprintf(r.out, "note: %s is listed as allowed to skip but did not skip\n", key)
	}
	failed := r.failed + pkgOnly
	fmt.Fprintf(r.out, "%d passed, %d failed, %d skipped\n", r.passed, failed, r.skipped)
	return failed == 0 && len(r.badSkips) == 0
}

// skipReason is what a skipped test said, without go test's own framing lines.
func skipReason(output []string) string {
	var parts []string
	for _, l := range output {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		parts = append(parts, t)
	}
	if len(parts) == 0 {
		return "(no reason given)"
	}
	return strings.Join(parts, " ")
}

// short trims the module path from a package's import path.
func short(pkg string) string {
	return strings.TrimPrefix(pkg, "github.com/clusterctl/clusterctl/")
}

// indent prefixes every line for readability under its FAIL header.
func indent(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		for _, s := range strings.SplitAfter(l, "\n") {
			if s != "" {
				b.WriteString("    " + s)
			}
		}
	}
	s := b.String()
	if s != "" && !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s
}

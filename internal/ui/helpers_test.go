package ui

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// mapEnv is an injectable environment backed by a map.
func mapEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// fakeClock is a manually advanced clock, safe for the spinner goroutine to read.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// guardWriter records output and counts writes that arrive after seal, which is how the
// spinner tests prove that nothing writes once End has returned.
type guardWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
	sealed bool
	late   int
}

func (g *guardWriter) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.writes++
	if g.sealed {
		g.late++
	}
	return g.buf.Write(p)
}

func (g *guardWriter) seal() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sealed = true
}

func (g *guardWriter) lateWrites() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.late
}

func (g *guardWriter) String() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.buf.String()
}

// terminalStatus returns a Status on forced-terminal test streams with a fake clock and a
// ticker slow enough that only explicit redraws happen, unless interval says otherwise.
func terminalStatus(t *testing.T, env map[string]string, interval time.Duration) (*Status, *fakeClock, *bytes.Buffer) {
	t.Helper()
	s, _, _, errOut := TestStreams()
	s.Terminal = TerminalAlways
	s.LookupEnv = mapEnv(env)
	st := s.Status()
	clock := newFakeClock()
	st.now = clock.Now
	st.interval = interval
	return st, clock, errOut
}

// segments splits terminal output at line clears, the unit a reader sees being redrawn.
func segments(out string) []string {
	var segs []string
	for _, s := range strings.Split(out, clearLine) {
		if s != "" {
			segs = append(segs, s)
		}
	}
	return segs
}

package scale

import (
	"context"
	"os"
	"testing"
	"time"
)

func TestSimStart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := NewSim(t.TempDir(), SimOptions{RTT: 5 * time.Millisecond, APILatency: time.Millisecond, Log: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := s.Start(ctx, "simtest", 3); err != nil {
		t.Fatal(err)
	}
	t.Logf("start: %s %+v calls %v", time.Since(start), s.Network.Stats(), s.Provider.Calls())
	for a, h := range s.Provider.Hosts("simtest") {
		t.Logf("%s: %+v", a, h.Counters())
	}
}

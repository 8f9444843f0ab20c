package scheduler

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ClockLine is the shell line a stats script starts with: the master's clock and zone, which
// ParseSnapshot reads (schedulers print local times without a zone).
const ClockLine = `echo "now $(date +%s) $(date +%z)"`

// Snapshot is a stats script's output taken apart: the master's clock, its zone, and the
// sections the script printed, each headed by a line "--- NAME".
type Snapshot struct {
	Time     time.Time
	Zone     *time.Location
	Sections map[string]string
}

// ParseSnapshot reads the output of a stats script that printed ClockLine first.
func ParseSnapshot(out string) (Snapshot, error) {
	snap := Snapshot{Sections: map[string]string{}}
	var cur, header string
	var body strings.Builder
	for _, line := range strings.SplitAfter(out, "\n") {
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), "--- "); ok {
			snap.Sections[cur] = body.String()
			cur = name
			body.Reset()
			continue
		}
		if cur == "" && strings.HasPrefix(line, "now ") {
			header = strings.TrimSpace(line)
			continue
		}
		body.WriteString(line)
	}
	snap.Sections[cur] = body.String()
	f := strings.Fields(header)
	if len(f) != 3 {
		first, _, _ := strings.Cut(out, "\n")
		return snap, fmt.Errorf("no clock line in %q", first)
	}
	epoch, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return snap, fmt.Errorf("clock %q: %w", f[1], err)
	}
	zone, err := time.Parse("-0700", f[2])
	if err != nil {
		return snap, fmt.Errorf("zone %q: %w", f[2], err)
	}
	snap.Time, snap.Zone = time.Unix(epoch, 0).UTC(), zone.Location()
	return snap, nil
}

// ParseLocalTime reads a time the master printed in its zone without saying so
// ("2006-01-02T15:04:05", as Grid Engine's XML and Slurm print them), in UTC; the zero time for
// anything else ("N/A", "Unknown").
func ParseLocalTime(text string, zone *time.Location) time.Time {
	t, err := time.ParseInLocation("2006-01-02T15:04:05", strings.TrimSpace(text), zone)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

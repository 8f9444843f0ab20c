package cloud

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// WaitStatus is how far a wait for instances got after one polling round, so the waiting
// command can show how many instances are ready and which are not, and why, instead of a
// spinner alone.
type WaitStatus struct {
	Ready, Total int
	// Pending maps each instance not ready yet (by alias, else id) to why: its state, or how
	// far its boot got.
	Pending map[string]string
}

// String names at most five pending instances with their reasons: "node003 (booting), node007
// (sshd not answering yet) and 12 more".
func (s WaitStatus) String() string {
	names := make([]string, 0, len(s.Pending))
	for n := range s.Pending {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return AliasLess(names[i], names[j]) })
	const shown = 5
	var parts []string
	for _, n := range names[:min(shown, len(names))] {
		if why := s.Pending[n]; why != "" {
			parts = append(parts, n+" ("+why+")")
		} else {
			parts = append(parts, n)
		}
	}
	out := strings.Join(parts, ", ")
	if len(names) > shown {
		out += fmt.Sprintf(" and %d more", len(names)-shown)
	}
	return out
}

type waitReporterKey struct{}

// WithWaitReporter returns a context whose waits (Provider.Wait) report each polling round to
// f, as net/http/httptrace does for requests.
func WithWaitReporter(ctx context.Context, f func(WaitStatus)) context.Context {
	return context.WithValue(ctx, waitReporterKey{}, f)
}

// ReportWait tells ctx's reporter, if any, how a wait stands; providers call it once per round.
func ReportWait(ctx context.Context, s WaitStatus) {
	if f, ok := ctx.Value(waitReporterKey{}).(func(WaitStatus)); ok && f != nil {
		f(s)
	}
}

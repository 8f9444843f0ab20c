package sge

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestUntilResolved: a master script that fails only because the qmaster cannot resolve a
// host name yet is run again; any other failure, and a cancelled context, end it at once.
func TestUntilResolved(t *testing.T) {
	unresolvable := errors.New(`master: command exited with status 1: ...
  | can't resolve hostname "node002"`)
	unknownAddress := errors.New(`node001: command exited with status 1: ...
  | denied: host "node001" is neither submit nor admin host`)
	other := errors.New("master: command exited with status 1: qconf: denied")
	for _, tc := range []struct {
		name      string
		answers   []error
		cancel    bool
		wantCalls int
		wantErr   error
	}{
		{"succeeds at once", []error{nil}, false, 1, nil},
		{"name resolved on the second run", []error{unresolvable, nil}, false, 2, nil},
		{"address resolved on the third run", []error{unknownAddress, unknownAddress, nil}, false, 3, nil},
		{"another failure is not retried", []error{other, nil}, false, 1, other},
		{"a cancelled context stops the retries", []error{unresolvable, nil}, true, 1, unresolvable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			calls := 0
			start := time.Now()
			err := untilResolved(ctx, func(context.Context) error {
				err := tc.answers[calls]
				calls++
				if tc.cancel {
					cancel()
				}
				return err
			})
			if !errors.Is(err, tc.wantErr) || calls != tc.wantCalls {
				t.Errorf("got %v after %d runs, want %v after %d", err, calls, tc.wantErr, tc.wantCalls)
			}
			if tc.cancel && time.Since(start) > time.Second {
				t.Errorf("a cancelled retry took %s", time.Since(start))
			}
		})
	}
}

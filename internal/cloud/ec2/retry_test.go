package ec2

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud/ec2/mototest"
)

// TestRetries: calls EC2 fails are retried with backoff, each backoff reported; a call that
// keeps failing stops after maxRetryAttempts; once the retry budget is spent, calls stop
// retrying at once and the error says so.
func TestRetries(t *testing.T) {
	if moto == nil {
		t.Skip(motoSkip)
	}
	for _, tc := range []struct {
		name     string
		rule     func(mototest.Request) *mototest.Fault
		budget   int
		wantErr  string
		maxCalls int
	}{
		{name: "every other fails", rule: mototest.EveryOther(mototest.InternalError)},
		{name: "all fail", rule: func(mototest.Request) *mototest.Fault { f := mototest.InternalError; return &f },
			wantErr: "EC2 kept refusing DescribeInstances through 10 attempts", maxCalls: maxRetryAttempts},
		{name: "budget spent", budget: 20, rule: func(mototest.Request) *mototest.Fault { f := mototest.Unavailable; return &f },
			wantErr: "this command's retry budget is spent", maxCalls: 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxy := mototest.NewFaultProxy(t, moto.Endpoint(), tc.rule)
			var mu sync.Mutex
			var events []RetryEvent
			p, err := New(t.Context(), Options{Region: mototest.Region, Endpoint: proxy.URL(),
				AccessKeyID: mototest.AccessKeyID, SecretAccessKey: mototest.SecretAccessKey,
				RetryBaseDelay: time.Millisecond, RetryBudget: tc.budget,
				OnRetry: func(ev RetryEvent) { mu.Lock(); events = append(events, ev); mu.Unlock() }})
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Instances(t.Context(), "none")
			calls := proxy.Requests()["DescribeInstances"]
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "run the command again") {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
			if tc.maxCalls > 0 && calls > tc.maxCalls {
				t.Errorf("%d calls, want at most %d", calls, tc.maxCalls)
			}
			mu.Lock()
			defer mu.Unlock()
			faults := 0
			for _, n := range proxy.Injected() {
				faults += n
			}
			// Every fault but the last of a call that failed is followed by a backoff.
			if len(events) != faults-boolInt(err != nil) {
				t.Errorf("%d backoffs reported for %v faults", len(events), proxy.Injected())
			}
			for _, ev := range events {
				if ev.Code == "" || ev.MaxAttempts != maxRetryAttempts || ev.Attempt < 1 {
					t.Errorf("backoff event %+v", ev)
				}
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

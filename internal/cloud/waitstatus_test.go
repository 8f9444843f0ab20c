package cloud

import (
	"context"
	"testing"
)

func TestWaitStatusNamesFirstPending(t *testing.T) {
	tests := []struct {
		pending map[string]string
		want    string
	}{
		{map[string]string{"node010": "booting", "node002": ""}, "node002, node010 (booting)"},
		{map[string]string{"node001": "a", "node002": "b", "node003": "c", "node004": "d", "node005": "e", "node006": "f", "node100": "g"},
			"node001 (a), node002 (b), node003 (c), node004 (d), node005 (e) and 2 more"},
	}
	for _, tt := range tests {
		if got := (WaitStatus{Pending: tt.pending}).String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestReportWaitReachesTheReporter(t *testing.T) {
	ReportWait(context.Background(), WaitStatus{Ready: 1}) // no reporter: nothing happens
	var got WaitStatus
	ctx := WithWaitReporter(context.Background(), func(s WaitStatus) { got = s })
	ReportWait(ctx, WaitStatus{Ready: 3, Total: 4})
	if got.Ready != 3 || got.Total != 4 {
		t.Fatalf("reported %+v", got)
	}
}

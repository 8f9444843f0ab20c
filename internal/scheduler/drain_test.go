package scheduler

import (
	"context"
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fakeScheduler answers Running from a script of answers and records what was asked of it.
type fakeScheduler struct {
	running [][]int // one answer per call, for the hosts in order; the last repeats
	calls   []string
}

func (f *fakeScheduler) Name() string                                    { return "Fake" }
func (f *fakeScheduler) Setup(context.Context, Cluster) error            { return nil }
func (f *fakeScheduler) AddHosts(context.Context, Cluster, []Node) error { return nil }
func (f *fakeScheduler) Commands() Commands                              { return Commands{} }
func (f *fakeScheduler) Stats(context.Context, Shell, time.Time) (Stats, error) {
	return Stats{}, nil
}
func (f *fakeScheduler) Drain(_ context.Context, _ Cluster, hosts []string) error {
	f.calls = append(f.calls, "drain "+strings.Join(hosts, ","))
	return nil
}
func (f *fakeScheduler) Resume(_ context.Context, _ Cluster, hosts []string) error {
	f.calls = append(f.calls, "resume "+strings.Join(hosts, ","))
	return nil
}
func (f *fakeScheduler) RemoveHosts(context.Context, Cluster, []Node, bool) error { return nil }
func (f *fakeScheduler) Running(_ context.Context, _ Cluster, hosts []string) (map[string]int, error) {
	f.calls = append(f.calls, "running")
	answer := f.running[0]
	if len(f.running) > 1 {
		f.running = f.running[1:]
	}
	if answer == nil {
		return nil, errors.New("qmaster does not answer")
	}
	out := map[string]int{}
	for i, h := range hosts {
		out[h] = answer[i]
	}
	return out, nil
}

// stepCluster runs steps and nothing else.
type stepCluster struct{}

func (stepCluster) Tag() string        { return "t" }
func (stepCluster) Nodes() []Node      { return nil }
func (stepCluster) User() User         { return User{} }
func (stepCluster) Shell(string) Shell { return nil }
func (stepCluster) WriteFile(context.Context, string, string, []byte, fs.FileMode, string) error {
	return nil
}
func (stepCluster) ForEach(context.Context, string, []Node, func(context.Context, Node) error) error {
	return nil
}
func (stepCluster) Step(ctx context.Context, _ string, fn func(context.Context) error) error {
	return fn(ctx)
}

// TestDrainAndWait: hosts are drained, then polled until they run nothing twice in a row (a
// job seen between two idle looks restarts the count); a wait that gives up resumes the hosts
// and says who runs what; nodes that are not running and forced removals do not wait.
func TestDrainAndWait(t *testing.T) {
	alive := []Node{{Name: "node001", Running: true}, {Name: "node002", Running: true}, {Name: "node003"}}
	fast := DrainOptions{Poll: time.Millisecond, Timeout: time.Second}
	tests := []struct {
		name      string
		running   [][]int
		opts      DrainOptions
		wantCalls []string
		wantErr   string
	}{
		{name: "idle twice", running: [][]int{{0, 0}}, opts: fast,
			wantCalls: []string{"drain node001,node002", "running", "running"}},
		{name: "a job ends, then a late one starts and ends", running: [][]int{{1, 0}, {0, 0}, {0, 1}, {0, 0}, {0, 0}}, opts: fast,
			wantCalls: []string{"drain node001,node002", "running", "running", "running", "running", "running"}},
		{name: "still busy at the deadline", running: [][]int{{0, 2}}, opts: DrainOptions{Poll: time.Millisecond, Timeout: 20 * time.Millisecond},
			wantErr: "node002 runs 2 jobs after waiting"},
		{name: "a failed look", running: [][]int{nil}, opts: fast, wantErr: "qmaster does not answer",
			wantCalls: []string{"drain node001,node002", "running", "resume node001,node002"}},
		{name: "force", running: [][]int{{5, 5}}, opts: DrainOptions{Force: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeScheduler{running: tt.running}
			err := DrainAndWait(context.Background(), f, stepCluster{}, alive, tt.opts)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			if tt.wantCalls != nil && !reflect.DeepEqual(f.calls, tt.wantCalls) {
				t.Errorf("calls %q, want %q", f.calls, tt.wantCalls)
			}
			if tt.wantErr != "" && f.calls[len(f.calls)-1] != "resume node001,node002" {
				t.Errorf("a drain that gave up must put the hosts back in service: %q", f.calls)
			}
			var busy *BusyError
			if strings.Contains(tt.wantErr, "runs") && (!errors.As(err, &busy) || busy.Jobs["node002"] != 2 || len(busy.Jobs) != 1) {
				t.Errorf("want a BusyError naming node002: %#v", err)
			}
		})
	}
	f := &fakeScheduler{running: [][]int{{1}}}
	if err := DrainAndWait(context.Background(), f, stepCluster{}, []Node{{Name: "gone"}}, fast); err != nil || len(f.calls) != 0 {
		t.Errorf("a node that is not running has nothing to wait for: %v %q", err, f.calls)
	}
}

func TestJobMemory(t *testing.T) {
	for give, want := range map[int64]int64{0: 0, 1 << 30: 896 << 20, 8 << 30: 8<<30 - 8<<30/20, 100 << 20: 50 << 20} {
		if got := JobMemory(give); got != want {
			t.Errorf("JobMemory(%d) = %d, want %d", give, got, want)
		}
	}
}

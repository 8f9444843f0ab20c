package local

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// TestKilledContainerIsDead kills a container's nspawn from outside: the instance is reported
// dead, Wait names it at once instead of waiting, and Terminate still cleans it up.
func TestKilledContainerIsDead(t *testing.T) {
	t.Parallel()
	p := newRealProvider(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	tc := startCluster(ctx, t, p, clusterSpec{tag: "dead"})
	m := tc.instance(t, "master")
	rec, err := p.findInstance(m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(rec.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var state string
	if !eventually(10*time.Second, func() bool {
		insts, err := p.Instances(ctx, "dead")
		if err == nil && len(insts) == 1 {
			state = insts[0].State
		}
		return state == cloud.StateDead
	}) {
		t.Fatalf("killed instance reported %q, want %q", state, cloud.StateDead)
	}
	start := time.Now()
	_, err = p.Wait(ctx, "dead", []string{m.ID}, cloud.StateRunning)
	if err == nil || !strings.Contains(err.Error(), m.ID) || !strings.Contains(err.Error(), "dead") {
		t.Errorf("Wait on a dead instance: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Wait took %s on a dead instance; it must not wait", took)
	}
	if err := p.Terminate(ctx, []string{m.ID}); err != nil {
		t.Fatal(err)
	}
	if err := p.DeleteCluster(ctx, "dead"); err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t, p, "dead", tc.cluster.GroupID, []string{m.ID}, []int{rec.PID})
}

package cluster

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/ui"
)

// stubProvider holds one cluster and keeps no locks of its own, so the engine's lock file is
// the cluster lock.
type stubProvider struct {
	cloud.Provider
	tag string
}

func (p stubProvider) Name() string { return "stub" }

func (p stubProvider) GetCluster(_ context.Context, tag string) (cloud.Cluster, error) {
	if tag != p.tag {
		return cloud.Cluster{}, cloud.ErrNotFound
	}
	return cloud.Cluster{Tag: tag, GroupID: "sg-1"}, nil
}

func (p stubProvider) ListClusters(context.Context) ([]cloud.Cluster, error) {
	return []cloud.Cluster{{Tag: p.tag}}, nil
}

// TestClusterLock: two commands on one cluster. The second waits while the first holds the
// lock, saying who holds it, and goes on once it is free; with a shorter wait it gives up
// naming the holder, its pid and how long it waited. Nested operations of one command take the
// lock once; the balancer's lock is never waited for; a cluster that does not exist is not
// locked but reported.
func TestClusterLock(t *testing.T) {
	state := t.TempDir()
	ctx := context.Background()
	first := &Engine{Provider: stubProvider{tag: "c"}, StateDir: state, Command: "addnode"}
	streams, _, _, errOut := ui.TestStreams()
	second := &Engine{Provider: stubProvider{tag: "c"}, StateDir: state, Command: "terminate", Status: streams.Status()}

	release, err := first.lockExisting(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	inner, err := first.lockExisting(ctx, "c")
	if err != nil {
		t.Fatalf("a nested operation of the same command: %v", err)
	}
	inner()

	second.LockWait = 300 * time.Millisecond
	_, err = second.lockExisting(ctx, "c")
	var le *cloud.LockedError
	if !errors.As(err, &le) || le.Holder.Command != "addnode" || le.Holder.PID != os.Getpid() || le.Waited < 300*time.Millisecond {
		t.Fatalf("refused after waiting: %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "cluster c is being changed by clusterctl addnode (pid ") || !strings.Contains(msg, "gave up after waiting") {
		t.Errorf("message: %s", msg)
	}
	if !strings.Contains(errOut.String(), "Waiting for cluster c: clusterctl addnode (pid") {
		t.Errorf("no waiting line:\n%s", errOut)
	}

	second.LockWait = time.Minute
	go func() {
		time.Sleep(500 * time.Millisecond)
		release()
	}()
	start := time.Now()
	got, err := second.lockExisting(ctx, "c")
	if err != nil {
		t.Fatalf("waiting for the lock: %v", err)
	}
	if waited := time.Since(start); waited < 400*time.Millisecond {
		t.Errorf("took the lock after %s, while the first command held it for 500ms", waited)
	}

	balancer, err := first.LockBalancer(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if _, err := second.LockBalancer(ctx, "c"); !errors.As(err, &le) || !strings.Contains(err.Error(), "one balancer per cluster") {
		t.Fatalf("second balancer: %v", err)
	}
	if time.Since(start) > time.Second {
		t.Error("a second balancer waited")
	}
	balancer()
	got()

	if _, err := second.lockExisting(ctx, "missing"); !errors.Is(err, ErrClusterNotFound) {
		t.Errorf("locking a cluster that does not exist: %v", err)
	}
}

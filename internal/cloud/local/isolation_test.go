package local

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// TestClustersIsolated starts two clusters side by side: they get different subnets and bridges,
// and a node of one reaches its own master but not the other cluster's.
func TestClustersIsolated(t *testing.T) {
	t.Parallel()
	p := newRealProvider(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	a := startCluster(ctx, t, p, clusterSpec{tag: "iso-a", nodes: 1})
	b := startCluster(ctx, t, p, clusterSpec{tag: "iso-b"})
	if a.insts[0].SubnetID == b.insts[0].SubnetID || a.cluster.GroupID == b.cluster.GroupID {
		t.Fatalf("clusters share subnet or bridge: %s/%s vs %s/%s",
			a.insts[0].SubnetID, a.cluster.GroupID, b.insts[0].SubnetID, b.cluster.GroupID)
	}
	probe := func(addr string) string {
		return fmt.Sprintf("timeout 2 bash -c '</dev/tcp/%s/22' 2>/dev/null && echo open || echo closed", addr)
	}
	// The control: within a cluster the same probe succeeds, so "closed" below means isolation.
	if got := a.mustRun(t, "node001", probe(a.instance(t, "master").PrivateIP)); got != "open" {
		t.Fatalf("node001 of iso-a cannot reach its own master: %s", got)
	}
	if got := a.mustRun(t, "node001", probe(b.instance(t, "master").PrivateIP)); got != "closed" {
		t.Errorf("node001 of iso-a reaches the master of iso-b: %s", got)
	}
	if got := b.mustRun(t, "master", probe(a.instance(t, "master").PrivateIP)); got != "closed" {
		t.Errorf("master of iso-b reaches the master of iso-a: %s", got)
	}
	for _, c := range []*testCluster{a, b} {
		out, err := p.run(ctx, cmd("ip", "-4", "rule", "show", "iif", c.cluster.GroupID))
		if err != nil || len(out) == 0 {
			t.Errorf("no isolation rule for bridge %s: %q, %v", c.cluster.GroupID, out, err)
		}
	}
	clusters, err := p.ListClusters(ctx)
	if err != nil || len(clusters) != 2 || clusters[0].Tag != "iso-a" || clusters[1].Tag != "iso-b" {
		t.Errorf("ListClusters = %+v, %v", clusters, err)
	}
	if _, err := p.CreateCluster(ctx, cloud.GroupSpec{Tag: "iso-a"}); err == nil {
		t.Error("created a cluster whose tag is taken")
	}
}

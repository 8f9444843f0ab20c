package local

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// TestCreateClustersConcurrently creates clusters at once from providers with separate state
// directories (as separate users' clusterctl processes would): the host-wide network lock must
// give each its own subnet and bridge.
func TestCreateClustersConcurrently(t *testing.T) {
	requireHost(t)
	ctx := context.Background()
	const n = 4
	provs := make([]*Provider, n)
	for i := range provs {
		p, err := New(Options{StateDir: t.TempDir(), Log: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		provs[i] = p
	}
	tags := make([]string, n)
	clusters := make([]cloud.Cluster, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, p := range provs {
		tags[i] = fmt.Sprintf("conc%d", i)
		wg.Go(func() { clusters[i], errs[i] = p.CreateCluster(ctx, cloud.GroupSpec{Tag: tags[i]}) })
	}
	wg.Wait()
	t.Cleanup(func() {
		for i, p := range provs {
			if err := p.DeleteCluster(ctx, tags[i]); err != nil {
				t.Error(err)
			}
		}
	})
	subnets, bridges := map[string]bool{}, map[string]bool{}
	for i, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
		rec, err := provs[i].readCluster(tags[i])
		if err != nil {
			t.Fatal(err)
		}
		if subnets[rec.Subnet.String()] || bridges[rec.Bridge] {
			t.Errorf("cluster %s shares subnet %s or bridge %s", tags[i], rec.Subnet, rec.Bridge)
		}
		subnets[rec.Subnet.String()], bridges[rec.Bridge] = true, true
		iface, err := net.InterfaceByName(rec.Bridge)
		if err != nil || iface.Flags&net.FlagUp == 0 {
			t.Errorf("bridge %s not up: %v", rec.Bridge, err)
		} else if has, _ := interfaceHas(iface, gateway(rec.Subnet).String()); !has {
			t.Errorf("bridge %s lacks %s", rec.Bridge, gateway(rec.Subnet))
		}
		if clusters[i].GroupID != rec.Bridge || clusters[i].GroupName != cloud.GroupPrefix+tags[i] {
			t.Errorf("cluster = %+v", clusters[i])
		}
	}
	p := provs[0]
	if _, err := p.CreateCluster(ctx, cloud.GroupSpec{Tag: tags[0]}); !errors.Is(err, cloud.ErrExists) {
		t.Errorf("creating an existing cluster: %v, want ErrExists", err)
	}
	if _, err := p.GetCluster(ctx, "absent"); !errors.Is(err, cloud.ErrNotFound) {
		t.Errorf("GetCluster(absent): %v, want ErrNotFound", err)
	}
	if err := p.DeleteCluster(ctx, "absent"); err != nil {
		t.Errorf("deleting an absent cluster: %v", err)
	}
	if insts, err := p.Instances(ctx, "absent"); err != nil || len(insts) != 0 {
		t.Errorf("Instances(absent) = %v, %v", insts, err)
	}
	if _, err := p.Launch(ctx, cloud.LaunchRequest{Tag: "absent", Aliases: []string{"master"}, ImageID: testImage}); !errors.Is(err, cloud.ErrNotFound) {
		t.Errorf("Launch into an absent cluster: %v, want ErrNotFound", err)
	}
}

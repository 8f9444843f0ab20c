package local

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// BenchmarkBoot measures how boot time grows with cluster size: 1, 4 and 8 instances launched
// in one request each and waited for until sshd answers, in one run, each reported as seconds
// and as a ratio to the single instance. Parallel boots should keep the ratios well under the
// instance counts.
func BenchmarkBoot(b *testing.B) {
	p := newRealProvider(b)
	sizes := []int{1, 4, 8}
	total := make([]time.Duration, len(sizes))
	b.StopTimer() // only launch + wait count; cluster setup and teardown do not
	for range b.N {
		for i, n := range sizes {
			total[i] += bootOnce(b, p, n)
		}
	}
	per := func(i int) float64 { return total[i].Seconds() / float64(b.N) }
	for i, n := range sizes {
		b.ReportMetric(per(i), fmt.Sprintf("s/boot%d", n))
		b.ReportMetric(per(i)/per(0), fmt.Sprintf("boot%d/boot1", n))
		b.Logf("boot %d instances: %.2fs, %.2fx one instance", n, per(i), per(i)/per(0))
	}
}

// bootOnce creates a cluster of n instances, times launch + wait, and removes it again.
func bootOnce(b *testing.B, p *Provider, n int) time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tag := fmt.Sprintf("bench%d", n)
	if _, err := p.CreateCluster(ctx, cloud.GroupSpec{Tag: tag}); err != nil {
		b.Fatal(err)
	}
	aliases := make([]string, n)
	for i := range aliases {
		aliases[i] = fmt.Sprintf("node%03d", i+1)
	}
	b.StartTimer()
	start := time.Now()
	insts, err := p.Launch(ctx, cloud.LaunchRequest{Tag: tag, Role: cloud.RoleNode, Aliases: aliases, InstanceType: "small", ImageID: testImage})
	var ids []string
	for _, in := range insts {
		ids = append(ids, in.ID)
	}
	if err == nil {
		_, err = p.Wait(ctx, tag, ids, cloud.StateRunning)
	}
	took := time.Since(start)
	b.StopTimer()
	if terr := p.Terminate(ctx, ids); terr != nil {
		b.Error(terr)
	}
	if derr := p.DeleteCluster(ctx, tag); derr != nil {
		b.Error(derr)
	}
	if err != nil {
		b.Fatal(err)
	}
	return took
}

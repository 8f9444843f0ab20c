package main

import (
	"fmt"
	"testing"
)

// BenchmarkStartAPICalls starts a 2-node and a 50-node cluster against moto in one run and
// reports EC2 API calls as ratios: RunInstances must not grow with the node count, and
// DescribeInstances only with polling rounds.
func BenchmarkStartAPICalls(b *testing.B) {
	counts := map[int]map[string]int{}
	for range b.N {
		for _, n := range []int{2, 50} {
			e := newAWSEnv(b, smallCluster(""))
			e.must("start", "-o", "-s", fmt.Sprint(n), "bench")
			counts[n] = e.calls.Snapshot()
		}
	}
	for _, op := range []string{"RunInstances", "DescribeInstances", "CreateTags"} {
		c2, c50 := counts[2][op], counts[50][op]
		b.Logf("%-18s 2 nodes: %3d calls   50 nodes: %3d calls   ratio 50/2: %.2f", op, c2, c50, float64(c50)/float64(max(c2, 1)))
	}
	b.ReportMetric(float64(counts[50]["RunInstances"])/float64(max(counts[2]["RunInstances"], 1)), "RunInstances-50/2")
	b.ReportMetric(float64(counts[50]["DescribeInstances"])/float64(max(counts[2]["DescribeInstances"], 1)), "DescribeInstances-50/2")
}

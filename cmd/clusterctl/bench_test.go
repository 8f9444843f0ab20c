package main

import (
	"fmt"
	"os"
	"testing"
	"time"
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

// BenchmarkLocalSetup starts local clusters of 1, 2 and 4 nodes (launch and full setup,
// Grid Engine included) in one run and reports each as a ratio to the 1-node time: per-node
// work runs in parallel and master-side work is batched, so the ratio should stay well below
// the node count.
func BenchmarkLocalSetup(b *testing.B) {
	example, err := os.ReadFile("../../examples/local.ini")
	if err != nil {
		b.Fatal(err)
	}
	e := newLocalEnv(b, string(example))
	times := map[int]time.Duration{}
	for range b.N {
		for _, n := range []int{1, 2, 4} {
			tag := fmt.Sprintf("bench%d", n)
			start := time.Now()
			e.must("start", "-c", "localcluster", "-s", fmt.Sprint(n), tag)
			times[n] = time.Since(start)
			e.must("terminate", "-y", tag)
		}
	}
	for _, n := range []int{1, 2, 4} {
		ratio := float64(times[n]) / float64(times[1])
		b.Logf("start with setup, %d node(s): %6.1fs   ratio to 1 node: %.2f", n, times[n].Seconds(), ratio)
		b.ReportMetric(ratio, fmt.Sprintf("setup-%dv1", n))
	}
}

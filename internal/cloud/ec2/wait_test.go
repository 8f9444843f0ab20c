package ec2

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cloud/ec2/mototest"
)

// launchN creates cluster tag and launches n on-demand nodes in it.
func launchN(t *testing.T, e *env, tag string, n int) []cloud.Instance {
	t.Helper()
	c, err := e.p.CreateCluster(e.ctx, cloud.GroupSpec{Tag: tag})
	if err != nil {
		t.Fatal(err)
	}
	aliases := nodeAliases(n)
	insts, err := e.p.Launch(e.ctx, cloud.LaunchRequest{Tag: tag, GroupID: c.GroupID, Role: cloud.RoleNode,
		Aliases: aliases, InstanceType: "t3.micro", ImageID: mototest.ImageAMD64,
		Boot: cloud.BootConfig{HostKeys: hostKeys(t, aliases)}})
	if err != nil {
		t.Fatal(err)
	}
	return insts
}

func ids(insts []cloud.Instance) []string {
	out := make([]string, len(insts))
	for i, in := range insts {
		out[i] = in.ID
	}
	return out
}

// TestWaitCostsOneCallPerRound stops the instances from outside after a few polling rounds and
// checks that Wait made about that many DescribeInstances calls, whatever the node count.
func TestWaitCostsOneCallPerRound(t *testing.T) {
	const stopAfterRounds = 3
	for _, n := range []int{2, 40} {
		t.Run(fmt.Sprintf("%d nodes", n), func(t *testing.T) {
			e := newEnv(t)
			insts := launchN(t, e, "w", n)
			e.calls.Reset()
			done := make(chan error, 1)
			go func() {
				for e.calls.Count("DescribeInstances") < stopAfterRounds {
					time.Sleep(time.Millisecond)
				}
				_, err := e.raw.StopInstances(e.ctx, &ec2.StopInstancesInput{InstanceIds: ids(insts)})
				done <- err
			}()
			got, err := e.p.Wait(e.ctx, "w", ids(insts), cloud.StateStopped)
			if err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if len(got) != n || got[0].State != cloud.StateStopped || got[0].Alias != "node001" {
				t.Fatalf("Wait returned %d instances, first %+v", len(got), got[0])
			}
			rounds := e.calls.Count("DescribeInstances")
			if rounds < stopAfterRounds || rounds > stopAfterRounds+2 {
				t.Fatalf("Wait made %d DescribeInstances calls for %d nodes, want %d-%d (one per round)",
					rounds, n, stopAfterRounds, stopAfterRounds+2)
			}
			if other := e.calls.Snapshot(); len(other) != 1 {
				t.Fatalf("Wait made other calls too: %v", other)
			}
		})
	}
}

func TestWaitOutcomes(t *testing.T) {
	cases := []struct {
		name      string
		prepare   func(t *testing.T, e *env, insts []cloud.Instance) []string // returns ids to wait for
		timeout   time.Duration
		wantErr   []string // substrings; none means success
		wantCount int
	}{
		{
			name:      "running now",
			prepare:   func(t *testing.T, e *env, insts []cloud.Instance) []string { return ids(insts) },
			wantCount: 2,
		},
		{
			name: "terminated while waiting",
			prepare: func(t *testing.T, e *env, insts []cloud.Instance) []string {
				if _, err := e.raw.TerminateInstances(e.ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{insts[1].ID}}); err != nil {
					t.Fatal(err)
				}
				return ids(insts)
			},
			wantErr: []string{"node002", "terminated while waiting for running", "User initiated shutdown"},
		},
		{
			name: "never visible",
			prepare: func(t *testing.T, e *env, insts []cloud.Instance) []string {
				return append(ids(insts), "i-00000000000000000")
			},
			timeout: 300 * time.Millisecond,
			wantErr: []string{"i-00000000000000000 (not visible yet)", "deadline exceeded"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			insts := launchN(t, e, "w", 2)
			wait := tc.prepare(t, e, insts)
			ctx := e.ctx
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			got, err := e.p.Wait(ctx, "w", wait, cloud.StateRunning)
			if len(tc.wantErr) == 0 {
				if err != nil || len(got) != tc.wantCount {
					t.Fatalf("Wait = %d instances, %v", len(got), err)
				}
				return
			}
			if err == nil {
				t.Fatal("Wait succeeded, want an error")
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

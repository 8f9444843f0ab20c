package ec2

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cloud/ec2/mototest"
)

// motoStates returns moto's state of each instance.
func motoStates(t *testing.T, e *env, ids []string) map[string]string {
	t.Helper()
	out, err := e.raw.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{InstanceIds: ids})
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			states[aws.ToString(in.InstanceId)] = string(in.State.Name)
		}
	}
	return states
}

func TestStopStartRebootTerminate(t *testing.T) {
	e := newEnv(t)
	insts := launchN(t, e, "pw", 3)
	all := ids(insts)
	steps := []struct {
		name  string
		act   func() error
		want  string
		alive int // Instances(tag) length afterwards
	}{
		{"stop", func() error { return e.p.Stop(e.ctx, all) }, "stopped", 3},
		{"start", func() error { return e.p.Start(e.ctx, all) }, "running", 3},
		{"reboot", func() error { return e.p.Reboot(e.ctx, all) }, "running", 3},
		{"terminate one", func() error { return e.p.Terminate(e.ctx, all[:1]) }, "", 2},
		{"terminate all, again for the first", func() error { return e.p.Terminate(e.ctx, all) }, "terminated", 0},
	}
	for _, st := range steps {
		if err := st.act(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if st.want == "stopped" || st.want == "running" {
			if _, err := e.p.Wait(e.ctx, "pw", all, st.want); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
		}
		states := motoStates(t, e, all)
		for _, id := range all {
			if st.want != "" && states[id] != st.want {
				t.Errorf("%s: moto has %s %s, want %s", st.name, id, states[id], st.want)
			}
		}
		alive, err := e.p.Instances(e.ctx, "pw")
		if err != nil || len(alive) != st.alive {
			t.Fatalf("%s: Instances = %d, %v; want %d", st.name, len(alive), err, st.alive)
		}
	}
}

// spotIDInjector adds SpotInstanceRequestId to DescribeInstances results: moto fulfils
// RequestSpotInstances with an instance but does not link the instance back to its request,
// which EC2 does and Terminate relies on to cancel it.
func spotIDInjector(link map[string]string) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("test.spotlink",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
				middleware.InitializeOutput, middleware.Metadata, error,
			) {
				out, md, err := next.HandleInitialize(ctx, in)
				if res, ok := out.Result.(*ec2.DescribeInstancesOutput); ok {
					for i := range res.Reservations {
						for j := range res.Reservations[i].Instances {
							inst := &res.Reservations[i].Instances[j]
							if req, ok := link[aws.ToString(inst.InstanceId)]; ok {
								inst.SpotInstanceRequestId = aws.String(req)
							}
						}
					}
				}
				return out, md, err
			}), middleware.Before)
	}
}

func TestTerminateCancelsSpotRequests(t *testing.T) {
	link := map[string]string{}
	e := newEnv(t, spotIDInjector(link))
	out, err := e.raw.RequestSpotInstances(e.ctx, &ec2.RequestSpotInstancesInput{
		SpotPrice: aws.String("0.05"), InstanceCount: aws.Int32(1),
		LaunchSpecification: &types.RequestSpotLaunchSpecification{ImageId: aws.String(mototest.ImageAMD64), InstanceType: types.InstanceTypeT3Micro},
	})
	if err != nil {
		t.Fatal(err)
	}
	req := out.SpotInstanceRequests[0]
	instID := aws.ToString(req.InstanceId)
	link[instID] = aws.ToString(req.SpotInstanceRequestId)
	if _, err := e.raw.CreateTags(e.ctx, &ec2.CreateTagsInput{Resources: []string{instID},
		Tags: tagList(map[string]string{cloud.TagCluster: "sp", cloud.TagAlias: "node001"})}); err != nil {
		t.Fatal(err)
	}
	before, err := e.p.SpotRequests(e.ctx, false)
	if err != nil || len(before) != 1 || before[0].InstanceID != instID {
		t.Fatalf("SpotRequests before = %+v, %v", before, err)
	}
	got, err := e.p.Instances(e.ctx, "sp")
	if err != nil || len(got) != 1 || got[0].Lifecycle != cloud.Spot || got[0].SpotRequestID == "" {
		t.Fatalf("Instances = %+v, %v", got, err)
	}
	if err := e.p.Terminate(e.ctx, []string{instID}); err != nil {
		t.Fatal(err)
	}
	if n := e.calls.Count("CancelSpotInstanceRequests"); n != 1 {
		t.Fatalf("CancelSpotInstanceRequests calls = %d", n)
	}
	// moto drops a cancelled request (EC2 keeps it as "cancelled"); either way it is no longer
	// open or active.
	after, err := e.p.SpotRequests(e.ctx, false)
	if err != nil || len(after) != 0 {
		t.Fatalf("SpotRequests after = %+v, %v", after, err)
	}
	if st := motoStates(t, e, []string{instID})[instID]; st != "terminated" {
		t.Fatalf("instance is %s", st)
	}
}

// groupInUse makes DeleteSecurityGroup fail with DependencyViolation while moto still has a
// live instance in the group, as EC2 does; moto itself deletes groups that are in use.
func groupInUse(raw *ec2.Client) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("test.groupinuse",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
				middleware.InitializeOutput, middleware.Metadata, error,
			) {
				if del, ok := in.Parameters.(*ec2.DeleteSecurityGroupInput); ok {
					out, err := raw.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{
						filter("instance.group-id", aws.ToString(del.GroupId)),
						filter("instance-state-name", "pending", "running", "stopping", "stopped", "shutting-down"),
					}})
					if err != nil {
						return middleware.InitializeOutput{}, middleware.Metadata{}, err
					}
					live := 0
					for _, r := range out.Reservations {
						live += len(r.Instances)
					}
					if live > 0 {
						return middleware.InitializeOutput{}, middleware.Metadata{}, &smithy.GenericAPIError{
							Code: "DependencyViolation", Message: "resource " + aws.ToString(del.GroupId) + " has a dependent object"}
					}
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After) // after the call counter, so refused attempts are counted
	}
}

func TestDeleteClusterRetriesWhileInUse(t *testing.T) {
	cases := []struct {
		name        string
		terminateAt int // terminate the instances after this many delete attempts; 0 = never
		timeout     time.Duration
		wantErr     string
	}{
		{name: "freed after two attempts", terminateAt: 2, timeout: 20 * time.Second},
		{name: "never freed", timeout: 300 * time.Millisecond, wantErr: "still in use"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, groupInUse(rawClient(t)))
			insts := launchN(t, e, "dc", 2)
			c, err := e.p.GetCluster(e.ctx, "dc")
			if err != nil {
				t.Fatal(err)
			}
			if tc.terminateAt > 0 {
				go func() {
					for e.calls.Count("DeleteSecurityGroup") < tc.terminateAt {
						time.Sleep(time.Millisecond)
					}
					_, _ = e.raw.TerminateInstances(e.ctx, &ec2.TerminateInstancesInput{InstanceIds: ids(insts)})
				}()
			}
			ctx, cancel := context.WithTimeout(e.ctx, tc.timeout)
			defer cancel()
			err = e.p.DeleteCluster(ctx, "dc")
			groups, derr := e.raw.DescribeSecurityGroups(e.ctx, &ec2.DescribeSecurityGroupsInput{
				Filters: []types.Filter{filter("group-id", c.GroupID)}})
			if derr != nil {
				t.Fatal(derr)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || len(groups.SecurityGroups) != 1 {
					t.Fatalf("DeleteCluster = %v with %d groups left, want %q and the group kept", err, len(groups.SecurityGroups), tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// The instances go away once attempt terminateAt has been counted, which may be
			// before that attempt reaches moto: success takes at least terminateAt attempts.
			if n := e.calls.Count("DeleteSecurityGroup"); n < tc.terminateAt {
				t.Fatalf("DeleteSecurityGroup calls = %d, want at least %d (retries while in use)", n, tc.terminateAt)
			}
			if len(groups.SecurityGroups) != 0 {
				t.Fatalf("group still in moto")
			}
		})
	}
}

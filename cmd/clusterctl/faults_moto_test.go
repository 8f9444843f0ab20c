package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/clusterctl/clusterctl/internal/cloud/ec2"
	"github.com/clusterctl/clusterctl/internal/cloud/ec2/mototest"
)

// throughProxy points the CLI at a fault-injecting proxy in front of this test's moto.
func (e *awsEnv) throughProxy(rule func(mototest.Request) *mototest.Fault) *mototest.FaultProxy {
	e.t.Helper()
	p := mototest.NewFaultProxy(e.t, moto.Endpoint(), rule)
	e.t.Setenv("AWS_ENDPOINT_URL_EC2", p.URL())
	// A lease's read and write, each maybe refused once, land well within half of this.
	e.seams = append(e.seams, func(a *app) { a.leaseSettle = 400 * time.Millisecond })
	return p
}

// TestEC2FaultsRiddenOut: with EC2 throttling (a request rate limit of 20 a second, bursts of
// 4) or failing every other request on its side (500, 503), start, addnode and terminate
// still succeed, say that they are backing off, and leave exactly what they would have: three
// named instances, then four, then nothing (no instance, group or spot request). The
// faults package runs the same with every other request throttled.
func TestEC2FaultsRiddenOut(t *testing.T) {
	for _, tc := range []struct {
		f    mototest.Fault
		rule func(mototest.Request) *mototest.Fault
	}{
		{mototest.Throttled, mototest.RateLimited(20, 4)},
		{mototest.InternalError, mototest.EveryOther(mototest.InternalError)},
		{mototest.Unavailable, mototest.EveryOther(mototest.Unavailable)},
	} {
		f := tc.f
		t.Run(f.Code, func(t *testing.T) {
			e := newAWSEnv(t, smallCluster(""))
			p := e.throughProxy(tc.rule)
			r := e.must("start", "-o", "--bid", "0.05", "rough")
			if !strings.Contains(r.errOut, "EC2 is throttling or failing requests ("+f.Code+"): backing off") {
				t.Errorf("start said nothing of backing off:\n%s", r.errOut)
			}
			if got := aliasesOf(e.instances("rough")); got != "master,node001,node002" {
				t.Fatalf("after start: %s", got)
			}
			e.must("addnode", "-o", "rough")
			if got := aliasesOf(e.instances("rough")); got != "master,node001,node002,node003" {
				t.Fatalf("after addnode: %s", got)
			}
			e.must("terminate", "-y", "rough")
			e.checkTerminated("rough")
			if open := openSpotRequests(t, e); open != 0 {
				t.Errorf("%d spot requests left open", open)
			}
			if p.Injected()[f.Code] < 5 {
				t.Errorf("only %d faults injected: %v", p.Injected()[f.Code], p.Injected())
			}
		})
	}
}

// TestEC2RetriesRunOut: an EC2 that fails everything wears out the retries; the error says
// that EC2 kept refusing, and to run the command again later.
func TestEC2RetriesRunOut(t *testing.T) {
	e := newAWSEnv(t, smallCluster(""))
	e.throughProxy(func(mototest.Request) *mototest.Fault { f := mototest.InternalError; return &f })
	r := e.cli("start", "-o", "down")
	if r.code != exitError || !strings.Contains(r.errOut, "EC2 kept refusing") || !strings.Contains(r.errOut, "run the command again") {
		t.Fatalf("exit %d:\n%s", r.code, r.errOut)
	}
}

// TestEC2NoCapacityAlternatives: EC2 has no capacity in us-east-1a, nor for two t3.micro
// workers anywhere. The master moves to the template's second zone; the workers follow it with
// the template's alternative type. Without alternatives the error names every attempt and
// what to change.
func TestEC2NoCapacityAlternatives(t *testing.T) {
	rule := func(r mototest.Request) *mototest.Fault {
		if r.Action != "RunInstances" {
			return nil
		}
		if r.Form.Get("Placement.AvailabilityZone") == "us-east-1a" || (r.Form.Get("InstanceType") == "t3.micro" && r.Form.Get("MinCount") == "2") {
			f := mototest.NoCapacity
			return &f
		}
		return nil
	}
	e := newAWSEnv(t, smallCluster("AVAILABILITY_ZONE = us-east-1a, us-east-1b\nNODE_INSTANCE_TYPE_ALTERNATIVES = t3.small\n"))
	e.throughProxy(rule)
	r := e.must("start", "-o", "moved")
	for _, in := range e.instances("moved") {
		alias, zone := ec2.InstanceAlias(in), aws.ToString(in.Placement.AvailabilityZone)
		want := "t3.small"
		if alias == "master" {
			want = "t3.micro"
		}
		if zone != "us-east-1b" || string(in.InstanceType) != want {
			t.Errorf("%s: %s in %s, want %s in us-east-1b", alias, in.InstanceType, zone, want)
		}
	}
	if !strings.Contains(r.errOut, "EC2 has no capacity for t3.micro in us-east-1a (InsufficientInstanceCapacity): trying the next alternative") {
		t.Errorf("the move was not said:\n%s", r.errOut)
	}
	e.must("terminate", "-y", "moved")

	e = newAWSEnv(t, smallCluster("AVAILABILITY_ZONE = us-east-1a\n"))
	e.throughProxy(rule)
	r = e.cli("start", "-o", "stuck")
	for _, want := range []string{"EC2 has no on-demand capacity for t3.micro in us-east-1a right now (InsufficientInstanceCapacity)",
		"list more zones in AVAILABILITY_ZONE or more types in NODE_INSTANCE_TYPE_ALTERNATIVES", "Resume with:   clusterctl start -x stuck"} {
		if !strings.Contains(r.errOut, want) {
			t.Errorf("error lacks %q:\n%s", want, r.errOut)
		}
	}
	e.must("terminate", "-y", "stuck")
}

// aliasesOf lists instances' aliases, sorted, comma-separated.
func aliasesOf(insts []types.Instance) string {
	var out []string
	for _, in := range insts {
		out = append(out, ec2.InstanceAlias(in))
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

// openSpotRequests counts moto's spot requests that are open or active.
func openSpotRequests(t *testing.T, e *awsEnv) int {
	t.Helper()
	out, err := e.raw.DescribeSpotInstanceRequests(context.Background(), &awsec2.DescribeSpotInstanceRequestsInput{
		Filters: []types.Filter{{Name: aws.String("state"), Values: []string{"open", "active"}}}})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.SpotInstanceRequests)
}

// TestEC2ClusterLease: on EC2 the cluster lock is a lease tag on the cluster's security group,
// so it holds across machines. Two addnodes at once both succeed with nodes of their own (the
// second waits); a lease another machine holds refuses a command that may not wait, naming
// that machine's command, pid and host; a lease past its expiry (its holder was killed) is
// taken over.
func TestEC2ClusterLease(t *testing.T) {
	e := newAWSEnv(t, smallCluster(""))
	e.must("start", "-o", "-s", "2", "busy")
	results := make(chan cliResult, 2)
	for range 2 {
		go func() { results <- e.cli("addnode", "-o", "busy") }()
	}
	var errOuts []string
	for range 2 {
		r := <-results
		if r.code != 0 {
			t.Fatalf("concurrent addnode: %+v", r)
		}
		errOuts = append(errOuts, r.errOut)
	}
	if got := aliasesOf(e.instances("busy")); got != "master,node001,node002,node003" {
		t.Fatalf("after two addnodes at once: %s", got)
	}
	if !strings.Contains(strings.Join(errOuts, ""), "Waiting for cluster busy: clusterctl addnode (pid ") {
		t.Errorf("neither addnode waited:\n%s", strings.Join(errOuts, "\n"))
	}

	group := aws.ToString(e.groups("busy")[0].GroupId)
	lease := func(expires time.Time) {
		v := fmt.Sprintf("v1 0123456789abcdef %d %d 4242 ws9.example.org addnode", time.Now().Add(-time.Minute).UnixMilli(), expires.UnixMilli())
		if _, err := e.raw.CreateTags(context.Background(), &awsec2.CreateTagsInput{Resources: []string{group},
			Tags: []types.Tag{{Key: aws.String("clusterctl:lease"), Value: aws.String(v)}}}); err != nil {
			t.Fatal(err)
		}
	}
	// A lease ending within what a lease written now could (its lifetime and clock skew); one
	// ending later is garbage, taken over (internal/cloud/ec2 TestLease).
	lease(time.Now().Add(5 * time.Minute))
	r := e.cli("--lock-wait", "0", "addnode", "-o", "busy")
	if r.code != exitBusy || !strings.Contains(r.errOut, "cluster busy is being changed by clusterctl addnode (pid 4242 on ws9.example.org) since ") {
		t.Errorf("addnode while another machine holds the lease: %+v", r)
	}
	lease(time.Now().Add(-time.Second))
	e.must("--lock-wait", "0", "addnode", "-o", "busy")
	e.must("terminate", "-y", "busy")
}

// TestEC2VanishedInstance: an instance terminated outside clusterctl (from the console, or EC2
// taking a spot instance back) is named by every command that loads the cluster while EC2
// still lists it, and start -x launches its replacement under its alias; instances clusterctl
// terminates itself are never reported.
func TestEC2VanishedInstance(t *testing.T) {
	e := newAWSEnv(t, smallCluster(""))
	e.must("start", "-o", "gone")
	var victim string
	for _, in := range e.instances("gone") {
		if ec2.InstanceAlias(in) == "node002" {
			victim = aws.ToString(in.InstanceId)
		}
	}
	if _, err := e.raw.TerminateInstances(context.Background(), &awsec2.TerminateInstancesInput{InstanceIds: []string{victim}}); err != nil {
		t.Fatal(err)
	}
	r := e.must("listclusters", "gone")
	if !strings.Contains(r.errOut, "node002 ("+victim+") vanished: it was terminated outside clusterctl") ||
		!strings.Contains(r.errOut, "`clusterctl repair gone`") {
		t.Errorf("listclusters does not name the vanished node:\n%s", r.errOut)
	}
	e.must("start", "-o", "-x", "gone")
	if got := aliasesOf(e.instances("gone")); got != "master,node001,node002" {
		t.Fatalf("after start -x: %s", got)
	}
	if r := e.must("listclusters", "gone"); strings.Contains(r.errOut, "vanished") {
		t.Errorf("a node clusterctl replaced is still reported:\n%s", r.errOut)
	}
	e.must("terminate", "-y", "gone")
}

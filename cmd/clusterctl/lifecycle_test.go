package main

import (
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cloud/ec2"
	"github.com/clusterctl/clusterctl/internal/cluster"
)

// TestStartListStopTerminate drives a cluster's whole life through the CLI and checks what
// moto holds after each step.
func TestStartListStopTerminate(t *testing.T) {
	e := newAWSEnv(t, smallCluster(""))
	r := e.must("start", "-o", "demo")
	if !strings.Contains(r.errOut, "✓ cluster demo is running (not set up: -o): 3 instances") {
		t.Fatalf("start output: %s", r.errOut)
	}

	groups := e.groups("demo")
	if len(groups) != 1 {
		t.Fatalf("want one @sc-demo group, got %d", len(groups))
	}
	g := groups[0]
	if tagValue(g.Tags, cloud.TagCluster) != "demo" {
		t.Errorf("group lacks the cluster tag: %v", g.Tags)
	}
	recTags := map[string]string{}
	for _, tg := range g.Tags {
		recTags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	data, err := cloud.DecodeRecord(recTags)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := cluster.DecodeRecord(data)
	if err != nil || rec.Template != "small" || rec.ClusterSize != 3 || rec.NodeImage != testImage || rec.KeyName != "mykey" {
		t.Fatalf("recorded template: %+v %v", rec, err)
	}
	var sshCIDRs []string
	for _, p := range g.IpPermissions {
		for _, rg := range p.IpRanges {
			if aws.ToInt32(p.FromPort) <= 22 && aws.ToInt32(p.ToPort) >= 22 {
				sshCIDRs = append(sshCIDRs, aws.ToString(rg.CidrIp))
			}
			if aws.ToString(rg.CidrIp) == "0.0.0.0/0" {
				t.Errorf("a rule is open to the world: %+v", p)
			}
		}
	}
	if len(sshCIDRs) != 1 || sshCIDRs[0] != "203.0.113.7/32" {
		t.Errorf("SSH must be open only to the caller: %v", sshCIDRs)
	}

	insts := e.instances("demo")
	if len(insts) != 3 {
		t.Fatalf("want 3 instances, got %d", len(insts))
	}
	aliases := map[string]bool{}
	for _, in := range insts {
		alias := ec2.InstanceOf(in).Alias
		aliases[alias] = true
		if name := tagValue(in.Tags, cloud.TagName); !strings.HasPrefix(name, "demo-") || !strings.Contains(name, alias) || ec2.InstanceOf(in).HostKey == "" {
			t.Errorf("instance %s tags: %v", aws.ToString(in.InstanceId), in.Tags)
		}
		if in.MetadataOptions == nil || in.MetadataOptions.HttpTokens != types.HttpTokensStateRequired {
			t.Errorf("IMDSv2 not required on %s", alias)
		}
	}
	if !aliases["master"] || !aliases["node001"] || !aliases["node002"] {
		t.Errorf("aliases: %v", aliases)
	}
	kh, err := os.ReadFile(filepath.Join(e.home, ".clusterctl", "known_hosts", "demo"))
	if err != nil || strings.Count(string(kh), "ssh-ed25519") != 3 || !strings.Contains(string(kh), "master,") {
		t.Errorf("host keys not pinned before first contact: %q %v", kh, err)
	}

	if r := e.must("__complete", "terminate", ""); !strings.Contains(r.out, "demo") {
		t.Errorf("completion of cluster tags: %q", r.out)
	}
	r = e.must("listclusters", "demo")
	for _, want := range []string{"demo (security group: @sc-demo)", "Keypair:        mykey", "master", "node002", "Total nodes:    3"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("listclusters lacks %q:\n%s", want, r.out)
		}
	}
	r = e.must("--output", "json", "listclusters")
	var infos []cluster.Info
	if err := json.Unmarshal([]byte(r.out), &infos); err != nil || len(infos) != 1 || infos[0].Total != 3 {
		t.Fatalf("listclusters json: %v %s", err, r.out)
	}

	if r := e.cli("start", "-o", "demo"); r.code == 0 || !strings.Contains(r.errOut, "already exists") || !strings.Contains(r.errOut, "start -x demo") {
		t.Errorf("second start must refuse and advise: %+v", r)
	}

	e.must("stop", "-y", "demo")
	for _, in := range e.instances("demo") {
		if in.State.Name != types.InstanceStateNameStopped {
			t.Errorf("%s is %s after stop", aws.ToString(in.InstanceId), in.State.Name)
		}
	}
	e.must("start", "-o", "-x", "demo")
	running := 0
	for _, in := range e.instances("demo") {
		if in.State.Name == types.InstanceStateNameRunning {
			running++
		}
	}
	if running != 3 {
		t.Errorf("start -x brought back %d of 3", running)
	}

	if r := e.cli("terminate", "demo"); r.code != exitUsage || !strings.Contains(r.errOut, "--confirm") {
		t.Errorf("terminate without a terminal must ask for --confirm: %+v", r)
	}
	e.must("terminate", "-y", "demo")
	e.checkTerminated("demo")
	if _, err := os.Stat(filepath.Join(e.home, ".clusterctl", "known_hosts", "demo")); !os.IsNotExist(err) {
		t.Errorf("known_hosts left behind: %v", err)
	}
	r = e.must("terminate", "-y", "demo")
	if !strings.Contains(r.errOut, "nothing to terminate") {
		t.Errorf("second terminate: %+v", r)
	}
	if r := e.cli("listclusters", "demo"); r.code != exitNotFound {
		t.Errorf("listclusters of a gone cluster: %+v", r)
	}
}

// TestSpotStart: with a bid, workers are spot and the master on-demand.
func TestSpotStart(t *testing.T) {
	e := newAWSEnv(t, smallCluster(""))
	r := e.must("start", "-o", "--bid", "0.05", "spotty")
	if !strings.Contains(r.errOut, "spot instances are not guaranteed") {
		t.Errorf("no spot warning: %s", r.errOut)
	}
	spot := map[string]bool{}
	for _, in := range e.instances("spotty") {
		spot[ec2.InstanceOf(in).Alias] = in.InstanceLifecycle == types.InstanceLifecycleTypeSpot
	}
	if spot["master"] || !spot["node001"] || !spot["node002"] {
		t.Fatalf("want spot workers and an on-demand master: %v", spot)
	}
	if r := e.cli("stop", "-y", "spotty"); r.code == 0 || !strings.Contains(r.errOut, "pass -t") {
		t.Errorf("stop of a spot cluster without -t: %+v", r)
	}
	e.must("stop", "-y", "-t", "spotty")
	states := map[string]types.InstanceStateName{}
	for _, in := range e.instances("spotty") {
		states[ec2.InstanceOf(in).Alias] = in.State.Name
	}
	if len(states) != 1 || states["master"] != types.InstanceStateNameStopped {
		t.Errorf("stop -t must terminate spot nodes and stop the master: %v", states)
	}
	e.must("terminate", "-y", "spotty")
}

// TestStartFailsBeforeLaunch: bad input stops before anything is created, all problems at once.
func TestStartFailsBeforeLaunch(t *testing.T) {
	e := newAWSEnv(t, smallCluster(`VOLUMES = data

[volume data]
VOLUME_ID = vol-0000000000000dead
MOUNT_PATH = /data

[cluster badimage]
EXTENDS = small
VOLUMES =
NODE_IMAGE_ID = ami-0000000000000bad1

[cluster nokey]
EXTENDS = small
VOLUMES =
KEYNAME = ghost

[key ghost]
KEY_LOCATION = ~/.ssh/mykey.rsa
`))
	cases := []struct{ args, want []string }{
		{[]string{"start", "-o", "-c", "badimage", "x1"}, []string{"ami-0000000000000bad1"}},
		{[]string{"start", "-o", "-c", "nokey", "x2"}, []string{"ghost"}},
		{[]string{"start", "-o", "-c", "small", "x3"}, []string{"vol-0000000000000dead"}},
		{[]string{"start", "-o", "-c", "small", "-s", "two", "x4"}, []string{`CLUSTER_SIZE must be a whole number, got "two"`, "command line"}},
	}
	for _, c := range cases {
		r := e.cli(c.args...)
		if r.code == 0 {
			t.Errorf("%v succeeded", c.args)
		}
		for _, w := range c.want {
			if !strings.Contains(r.errOut, w) {
				t.Errorf("%v: error lacks %q:\n%s", c.args, w, r.errOut)
			}
		}
	}
	out, err := e.raw.DescribeInstances(context.Background(), &awsec2.DescribeInstancesInput{})
	if err != nil || len(out.Reservations) != 0 {
		t.Errorf("instances were launched despite failed checks: %v", err)
	}
	for _, tag := range []string{"x1", "x2", "x3", "x4"} {
		if len(e.groups(tag)) != 0 {
			t.Errorf("group @sc-%s created despite failed checks", tag)
		}
	}
}

// TestStartFailsAfterLaunch: a failure mid-start leaves tagged resources, says what exists and
// how to go on; start -x resumes and terminate cleans up.
func TestStartFailsAfterLaunch(t *testing.T) {
	e := newAWSEnv(t, smallCluster("NODE_INSTANCE_TYPE = t3.small:1, t3.micro\n"))
	e.extra = append(e.extra, failNth("RunInstances", 2))
	r := e.cli("start", "-o", "half")
	if r.code == 0 {
		t.Fatal("start succeeded despite the injected failure")
	}
	for _, want := range []string{"injected failure of RunInstances", "security group @sc-half", "master", "clusterctl start -x half", "clusterctl terminate half"} {
		if !strings.Contains(r.errOut, want) {
			t.Errorf("failure report lacks %q:\n%s", want, r.errOut)
		}
	}
	if n := len(e.instances("half")); n != 1 {
		t.Fatalf("want the master left in place, got %d instances", n)
	}
	e.extra = nil
	e.must("start", "-o", "-x", "half")
	if n := len(e.instances("half")); n != 3 {
		t.Fatalf("start -x must launch the missing nodes: %d instances", n)
	}
	e.must("terminate", "-y", "half")
	if len(e.instances("half")) != 0 || len(e.groups("half")) != 0 {
		t.Fatal("terminate left resources")
	}
}

// TestDryRunAndSSHLookup: --dry-run prints the plan and creates nothing; without SSH_CIDR a
// failed address lookup stops the start instead of opening SSH to the world.
func TestDryRunAndSSHLookup(t *testing.T) {
	e := newAWSEnv(t, smallCluster("SPOT_BID = 0.04\n"))
	r := e.must("start", "-o", "--dry-run", "-s", "5", "plan")
	for _, want := range []string{"master", "4", "spot", "0.04 USD/h", "node001 .. node004", "203.0.113.7/32", "198.51.100.0/24"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("plan lacks %q:\n%s", want, r.out)
		}
	}
	if len(e.groups("plan")) != 0 || len(e.instances("plan")) != 0 {
		t.Error("dry run created something")
	}
	e.ip = func(context.Context) (netip.Addr, error) { return netip.Addr{}, errLookup }
	r = e.cli("start", "-o", "nolookup")
	if r.code == 0 || !strings.Contains(r.errOut, "set SSH_CIDR") {
		t.Errorf("failed lookup: %+v", r)
	}
	if len(e.groups("nolookup")) != 0 {
		t.Error("group created without an SSH source")
	}
}

// TestRunInstancesCallsDoNotGrowWithNodes: a 2-node and a 50-node start make the same number of
// RunInstances calls, and DescribeInstances grows with polling rounds, not nodes.
func TestRunInstancesCallsDoNotGrowWithNodes(t *testing.T) {
	counts := map[int]map[string]int{}
	for _, n := range []int{2, 50} {
		e := newAWSEnv(t, smallCluster(""))
		e.must("start", "-o", "-s", itoa(n), "scale")
		counts[n] = e.calls.Snapshot()
		if got := len(e.instances("scale")); got != n {
			t.Fatalf("want %d instances, got %d", n, got)
		}
	}
	if counts[2]["RunInstances"] != 2 || counts[50]["RunInstances"] != 2 {
		t.Errorf("RunInstances calls: 2 nodes %d, 50 nodes %d; want 2 each (master + one worker group)",
			counts[2]["RunInstances"], counts[50]["RunInstances"])
	}
	if d2, d50 := counts[2]["DescribeInstances"], counts[50]["DescribeInstances"]; d50 > d2+3 {
		t.Errorf("DescribeInstances grows with nodes: %d for 2 nodes, %d for 50", d2, d50)
	}
}

// TestUnfulfilledSpotCancelled: spot workers that never leave pending (EC2 had no capacity at
// the bid) are terminated when the wait times out, and the failure says so.
func TestUnfulfilledSpotCancelled(t *testing.T) {
	e := newAWSEnv(t, smallCluster(""))
	e.extra = append(e.extra, spotStaysPending())
	e.timeout = 400 * time.Millisecond
	r := e.cli("start", "-o", "--bid", "0.01", "starved")
	if r.code == 0 {
		t.Fatal("start succeeded with unfulfilled spot capacity")
	}
	for _, want := range []string{"spot capacity for node001, node002 was not fulfilled", "start -x starved", "terminate starved"} {
		if !strings.Contains(r.errOut, want) {
			t.Errorf("report lacks %q:\n%s", want, r.errOut)
		}
	}
	left := map[string]bool{}
	for _, in := range e.instances("starved") {
		left[ec2.InstanceOf(in).Alias] = true
	}
	if len(left) != 1 || !left["master"] {
		t.Errorf("want only the master left, got %v", left)
	}
	e.extra, e.timeout = nil, 0
	e.must("terminate", "-y", "starved")
}

// TestTerminateKeepsVolumes: the template's volume is attached to the master at start, and
// terminate detaches it and leaves it, available, with its data.
func TestTerminateKeepsVolumes(t *testing.T) {
	e := newAWSEnv(t, smallCluster(""))
	vol := strings.TrimSpace(e.must("createvolume", "3", "us-east-1a", "-n", "results").out)
	data, _ := os.ReadFile(e.config)
	extra := "VOLUMES = results\n\n[volume results]\nVOLUME_ID = " + vol + "\nMOUNT_PATH = /results\n"
	if err := os.WriteFile(e.config, append(data, extra...), 0o600); err != nil {
		t.Fatal(err)
	}
	e.must("start", "-o", "keep")
	state := func() (string, string) {
		out, err := e.raw.DescribeVolumes(context.Background(), &awsec2.DescribeVolumesInput{VolumeIds: []string{vol}})
		if err != nil || len(out.Volumes) != 1 {
			t.Fatalf("volume %s gone: %v", vol, err)
		}
		v := out.Volumes[0]
		if len(v.Attachments) == 0 {
			return string(v.State), ""
		}
		return string(v.State), aws.ToString(v.Attachments[0].InstanceId)
	}
	st, on := state()
	var master string
	for _, in := range e.instances("keep") {
		if ec2.InstanceOf(in).Alias == "master" {
			master = aws.ToString(in.InstanceId)
		}
	}
	if st != "in-use" || on != master {
		t.Fatalf("volume not attached to the master: %s on %s (master %s)", st, on, master)
	}
	e.must("terminate", "-y", "keep")
	if st, on := state(); st != "available" || on != "" {
		t.Fatalf("after terminate the volume is %s on %q", st, on)
	}
}

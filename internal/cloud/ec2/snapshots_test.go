package ec2

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cloud/ec2/mototest"
)

// TestSnapshots makes, lists and deletes snapshots on moto: tagged at creation, listed newest
// first and by tag, waited for until completed.
func TestSnapshots(t *testing.T) {
	e := newEnv(t)
	vol, err := e.p.CreateVolume(e.ctx, cloud.VolumeSpec{SizeGB: 3, Zone: "us-east-1a", Name: "refdata"})
	if err != nil {
		t.Fatal(err)
	}
	first, err := e.p.CreateSnapshot(e.ctx, cloud.SnapshotSpec{VolumeID: vol.ID, Description: "first",
		Tags: map[string]string{cloud.TagCluster: "sc", cloud.TagVolume: "ref"}})
	if err != nil {
		t.Fatal(err)
	}
	if first.State != cloud.SnapshotCompleted || first.VolumeID != vol.ID || first.SizeGB != 3 || first.Tags[cloud.TagVolume] != "ref" ||
		!cloud.SnapshotIDPattern.MatchString(first.ID) {
		t.Fatalf("snapshot: %+v", first)
	}
	second, err := e.p.CreateSnapshot(e.ctx, cloud.SnapshotSpec{VolumeID: vol.ID, Tags: map[string]string{cloud.TagCluster: "other"}})
	if err != nil {
		t.Fatal(err)
	}
	all, err := e.p.Snapshots(e.ctx, cloud.SnapshotFilter{IDs: []string{first.ID, second.ID, "snap-0000000000000000f"}})
	if err != nil || len(all) != 2 || all[0].StartTime.Before(all[1].StartTime) {
		t.Fatalf("by id, newest first: %+v %v", all, err)
	}
	for name, f := range map[string]cloud.SnapshotFilter{
		"cluster": {Cluster: "sc"}, "tag value": {Tags: map[string]string{cloud.TagVolume: "ref"}}, "tag key": {Tags: map[string]string{cloud.TagVolume: ""}},
	} {
		got, err := e.p.Snapshots(e.ctx, f)
		if err != nil || len(got) != 1 || got[0].ID != first.ID {
			t.Errorf("by %s: %+v %v", name, got, err)
		}
	}
	if _, err := e.p.CreateSnapshot(e.ctx, cloud.SnapshotSpec{VolumeID: "vol-0000000000000000f"}); !errors.Is(err, cloud.ErrNotFound) {
		t.Errorf("snapshot of a missing volume: %v", err)
	}
	if err := e.p.DeleteSnapshot(e.ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.p.DeleteSnapshot(e.ctx, first.ID); !errors.Is(err, cloud.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if got, _ := e.p.Snapshots(e.ctx, cloud.SnapshotFilter{Cluster: "sc"}); len(got) != 0 {
		t.Errorf("deleted snapshot still listed: %+v", got)
	}
}

// TestLaunchCopiesSnapshot: every instance of a launch gets its own volume from the snapshot,
// in its zone, attached at the device asked for, tagged with the cluster, deleted with the
// instance unless kept; one RunInstances call carries them all.
func TestLaunchCopiesSnapshot(t *testing.T) {
	e := newEnv(t)
	src, err := e.p.CreateVolume(e.ctx, cloud.VolumeSpec{SizeGB: 2, Zone: "us-east-1a"})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := e.p.CreateSnapshot(e.ctx, cloud.SnapshotSpec{VolumeID: src.ID})
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.p.CreateCluster(e.ctx, cloud.GroupSpec{Tag: "cp"})
	if err != nil {
		t.Fatal(err)
	}
	aliases := nodeAliases(3)
	req := cloud.LaunchRequest{Tag: "cp", GroupID: c.GroupID, Role: cloud.RoleNode, Aliases: aliases,
		InstanceType: "t3.micro", ImageID: mototest.ImageAMD64, Boot: cloud.BootConfig{HostKeys: hostKeys(t, aliases)},
		Volumes: []cloud.LaunchVolume{
			{Name: "ref", SnapshotID: snap.ID, Device: "/dev/sdy", MountPath: "/ref", ReadOnly: true},
			{Name: "kept", SnapshotID: snap.ID, Device: "/dev/sdx", MountPath: "/kept", Keep: true},
		}}
	if err := e.p.Preflight(e.ctx, cloud.Plan{Tag: "cp", Requests: []cloud.LaunchRequest{req}}); err != nil {
		t.Fatalf("preflight: %v", err)
	}
	e.calls.Reset()
	insts, err := e.p.Launch(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.calls.Count("RunInstances"); n != 1 {
		t.Errorf("%d RunInstances calls for 3 nodes with 2 copies each", n)
	}
	vols, err := e.p.Volumes(e.ctx, cloud.VolumeFilter{Cluster: "cp"})
	if err != nil {
		t.Fatal(err)
	}
	byNode := map[string]map[string]cloud.Volume{}
	for _, v := range vols {
		if v.SnapshotID != snap.ID {
			continue
		}
		if byNode[v.AttachedTo] == nil {
			byNode[v.AttachedTo] = map[string]cloud.Volume{}
		}
		byNode[v.AttachedTo][v.Device] = v
	}
	for _, in := range insts {
		got := byNode[in.ID]
		if len(got) != 2 || got["/dev/sdy"].Zone != in.Zone || !got["/dev/sdy"].Encrypted || got["/dev/sdx"].ID == "" {
			t.Errorf("%s has copies %+v", in.Alias, got)
		}
	}
	out, err := e.raw.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{insts[0].ID}})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range out.Reservations[0].Instances[0].BlockDeviceMappings {
		dev, del := aws.ToString(m.DeviceName), aws.ToBool(m.Ebs.DeleteOnTermination)
		if (dev == "/dev/sdy" && !del) || (dev == "/dev/sdx" && del) {
			t.Errorf("%s delete on termination %v", dev, del)
		}
	}

	// Terminating one node takes its copy along and keeps the kept one.
	if err := e.p.Terminate(e.ctx, []string{insts[0].ID}); err != nil {
		t.Fatal(err)
	}
	left, err := e.p.Volumes(e.ctx, cloud.VolumeFilter{IDs: []string{byNode[insts[0].ID]["/dev/sdy"].ID, byNode[insts[0].ID]["/dev/sdx"].ID,
		byNode[insts[1].ID]["/dev/sdy"].ID}})
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, v := range left {
		states = append(states, v.ID+"="+v.State)
	}
	if len(left) != 2 || !strings.Contains(strings.Join(states, " "), byNode[insts[0].ID]["/dev/sdx"].ID+"=available") {
		t.Errorf("after terminating %s: %v (want its kept copy available and the other node's copy in use)", insts[0].Alias, states)
	}

	bad := req
	bad.Volumes = []cloud.LaunchVolume{{Name: "ref", SnapshotID: "snap-0000000000000000f", Device: "/dev/sdy"}, {Name: "typo", SnapshotID: "vol-1", Device: "/dev/sdx"}}
	err = e.p.Preflight(e.ctx, cloud.Plan{Tag: "cp2", Requests: []cloud.LaunchRequest{bad}})
	if err == nil || !strings.Contains(err.Error(), "volume ref: snapshot snap-0000000000000000f not found in us-east-1") ||
		!strings.Contains(err.Error(), `volume typo: "vol-1" is not a snapshot id`) {
		t.Errorf("preflight of missing snapshots: %v", err)
	}
}

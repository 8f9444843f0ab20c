package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cloud/ec2"
	"github.com/clusterctl/clusterctl/internal/cluster"
)

// stagingRecorder stands in for syncdata's work on the master, which moto's instances cannot
// do: it reports a data size and, when asked to copy, records where moto has the staging volume
// attached at that moment. Everything else syncdata does is real calls to moto.
type stagingRecorder struct {
	raw   *awsec2.Client
	bytes int64
	fail  error

	mu       sync.Mutex
	copies   []cluster.Staging
	attached []string // instance id and device moto had for the staging volume during Copy
	sizes    []int32
	released int
}

func (s *stagingRecorder) Measure(context.Context, []string) (int64, error) { return s.bytes, nil }

func (s *stagingRecorder) Copy(ctx context.Context, _ []string, v cluster.Staging) error {
	out, err := s.raw.DescribeVolumes(ctx, &awsec2.DescribeVolumesInput{VolumeIds: []string{v.ID}})
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.copies = append(s.copies, v)
	vol := out.Volumes[0]
	s.sizes = append(s.sizes, aws.ToInt32(vol.Size))
	for _, a := range vol.Attachments {
		s.attached = append(s.attached, aws.ToString(a.InstanceId)+" "+aws.ToString(a.Device))
	}
	return s.fail
}

func (s *stagingRecorder) Release(context.Context, cluster.Staging) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.released++
	return nil
}

// TestDataCopiesOnMoto is GBrowse's workflow on moto: a template copying a data snapshot
// (DATA_SNAPSHOTS) and a [volume] with SHARE = copy to every node. start and addnode create one
// volume per new node from each snapshot, attached to that node; syncdata makes a new snapshot
// through a staging volume attached to the master (removed again, also after a failure) and the
// next addnode copies that one; listsnapshots and pruning follow the snapshots; terminate
// deletes every copy.
func TestDataCopiesOnMoto(t *testing.T) {
	e := newAWSEnv(t, smallCluster(""))
	ctx := context.Background()
	seed, err := e.raw.CreateVolume(ctx, &awsec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	first, err := e.raw.CreateSnapshot(ctx, &awsec2.CreateSnapshotInput{VolumeId: seed.VolumeId})
	if err != nil {
		t.Fatal(err)
	}
	snap := aws.ToString(first.SnapshotId)
	f, err := os.OpenFile(e.config, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString(`
[volume refs]
SHARE = copy
SNAPSHOT_ID = ` + snap + `
MOUNT_PATH = /refs
READ_ONLY = false

[cluster render]
EXTENDS = small
VOLUMES = refs
DATA_SNAPSHOTS = ` + snap + `
`)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	copiesOf := func(snapID string) map[string]types.Volume { // by instance id
		out, err := e.raw.DescribeVolumes(ctx, &awsec2.DescribeVolumesInput{Filters: []types.Filter{
			{Name: aws.String("snapshot-id"), Values: []string{snapID}}, {Name: aws.String("tag:" + cloud.TagCluster), Values: []string{"gb"}}}})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]types.Volume{}
		for _, v := range out.Volumes {
			if len(v.Attachments) != 1 {
				t.Errorf("copy %s has attachments %+v", aws.ToString(v.VolumeId), v.Attachments)
				continue
			}
			m[aws.ToString(v.Attachments[0].InstanceId)+" "+aws.ToString(v.Attachments[0].Device)] = v
		}
		return m
	}
	byAlias := func() map[string]types.Instance {
		m := map[string]types.Instance{}
		for _, in := range e.instances("gb") {
			m[ec2.InstanceOf(in).Alias] = in
		}
		return m
	}
	// checkCopies: every node has its own copy of each volume, in its zone, from the snapshot
	// the test expects for it.
	checkCopies := func(want map[string][2]string) {
		t.Helper()
		insts := byAlias()
		if len(insts) != len(want) {
			t.Fatalf("nodes %v, want %v", len(insts), want)
		}
		for alias, snaps := range want {
			in := insts[alias]
			id, zone := aws.ToString(in.InstanceId), aws.ToString(in.Placement.AvailabilityZone)
			for dev, s := range map[string]string{"/dev/sdz": snaps[0], "/dev/sdy": snaps[1]} {
				v, ok := copiesOf(s)[id+" "+dev]
				if !ok || aws.ToString(v.AvailabilityZone) != zone || !aws.ToBool(v.Encrypted) {
					t.Errorf("%s has no copy of %s at %s in %s: %+v", alias, s, dev, zone, v)
				}
			}
		}
	}

	if r := e.must("start", "--dry-run", "-c", "render", "gb"); !strings.Contains(r.out, "Volumes copied to every node from a snapshot") ||
		!strings.Contains(r.out, "/refs") || !strings.Contains(r.out, "writable") {
		t.Errorf("dry run:\n%s", r.out)
	}
	e.must("start", "-o", "-c", "render", "gb")
	// refs ([volume], first in the record) is at /dev/sdz, data (DATA_SNAPSHOTS) at /dev/sdy.
	checkCopies(map[string][2]string{"master": {snap, snap}, "node001": {snap, snap}, "node002": {snap, snap}})
	e.must("addnode", "-o", "gb")
	checkCopies(map[string][2]string{"master": {snap, snap}, "node001": {snap, snap}, "node002": {snap, snap}, "node003": {snap, snap}})

	// syncdata: the staging volume is sized for 3 GiB plus 20% (+1 GB), attached to the master
	// while the data is copied, and gone afterwards.
	rec := &stagingRecorder{raw: e.raw, bytes: 3 << 30}
	e.extra = nil
	sync := func(args ...string) cliResult {
		return e.cliWith(func(a *app) { a.syncCopier = rec }, append([]string{"syncdata", "gb"}, args...)...)
	}
	r := sync("-v", "data", "/srv/gbrowse/databases")
	if r.code != 0 {
		t.Fatalf("syncdata: %+v", r)
	}
	master := aws.ToString(byAlias()["master"].InstanceId)
	if len(rec.copies) != 1 || len(rec.attached) != 1 || rec.attached[0] != master+" "+rec.copies[0].Device || rec.sizes[0] != 5 || rec.copies[0].Dir != "" {
		t.Fatalf("staging during the copy: %+v attached %v sizes %v (master %s)", rec.copies, rec.attached, rec.sizes, master)
	}
	newSnap := strings.TrimPrefix(strings.Split(strings.TrimSpace(r.out), "\n")[1], "DATA_SNAPSHOTS = ")
	if !strings.HasPrefix(r.out, "[cluster render]\nDATA_SNAPSHOTS = snap-") || newSnap == snap || !strings.Contains(r.errOut, newSnap) {
		t.Fatalf("syncdata output:\n%s\n%s", r.out, r.errOut)
	}
	snaps, err := e.raw.DescribeSnapshots(ctx, &awsec2.DescribeSnapshotsInput{SnapshotIds: []string{newSnap}})
	if err != nil || len(snaps.Snapshots) != 1 {
		t.Fatalf("new snapshot: %v", err)
	}
	if tags := snaps.Snapshots[0].Tags; tagValue(tags, cloud.TagCluster) != "gb" || tagValue(tags, cloud.TagVolume) != "data" || tagValue(tags, cloud.TagSyncData) == "" {
		t.Errorf("new snapshot tags: %v", tags)
	}
	if left := stagingVolumes(t, e); len(left) != 0 {
		t.Errorf("staging volumes left: %v", left)
	}

	// The next node gets the new data; the others keep theirs.
	e.must("addnode", "-o", "gb")
	checkCopies(map[string][2]string{"master": {snap, snap}, "node001": {snap, snap}, "node002": {snap, snap}, "node003": {snap, snap}, "node004": {snap, newSnap}})

	// A failed copy leaves no staging volume and no snapshot.
	rec.fail = errors.New("injected copy failure")
	if r := sync("-v", "/refs", "/srv/refs/"); r.code == 0 || !strings.Contains(r.errOut, "injected copy failure") {
		t.Fatalf("failed syncdata: %+v", r)
	}
	if left := stagingVolumes(t, e); len(left) != 0 || rec.released != 1 {
		t.Errorf("after a failed copy: staging volumes %v, released %d times", left, rec.released)
	}
	rec.fail = nil

	// Two more syncs with --keep 2: the oldest syncdata snapshot goes, the template's stays.
	r1, r2 := sync("-v", "data", "--keep", "2", "/srv/gbrowse/databases"), sync("-v", "data", "--keep", "2", "/srv/gbrowse/databases")
	if r1.code != 0 || r2.code != 0 || !strings.Contains(r2.errOut, "Deleted 1 older snapshot: "+newSnap) {
		t.Fatalf("syncdata --keep 2: %+v\n%+v", r1, r2)
	}
	r = e.must("--output", "json", "listsnapshots", "gb")
	var listed []cluster.SnapshotInfo
	if err := json.Unmarshal([]byte(r.out), &listed); err != nil {
		t.Fatal(err)
	}
	origins := map[string]int{}
	var current []string
	for _, s := range listed {
		origins[s.Origin]++
		if s.ID == newSnap {
			t.Errorf("pruned snapshot %s still listed", newSnap)
		}
		if s.Current {
			current = append(current, s.Volume+"="+s.ID)
		}
	}
	if origins["syncdata"] != 2 || origins["template"] != 2 || len(current) != 2 || current[0] != "data="+listed[0].ID {
		t.Errorf("listsnapshots: %+v", listed)
	}
	if r := e.cli("syncdata", "gb", "-v", "nope", "/srv"); r.code == 0 || !strings.Contains(r.errOut, "no copied volume \"nope\"") {
		t.Errorf("syncdata of an unknown volume: %+v", r)
	}

	e.must("terminate", "-y", "gb")
	for _, s := range []string{snap, newSnap} {
		if left := copiesOf(s); len(left) != 0 {
			t.Errorf("copies of %s left after terminate: %v", s, left)
		}
	}
	if r := e.must("prunesnapshots", "-y", "--keep", "1", "gb"); strings.Count(strings.TrimSpace(r.out), "snap-") != 1 {
		t.Errorf("prunesnapshots after terminate: %+v", r)
	}
}

// stagingVolumes lists volumes syncdata made and did not delete.
func stagingVolumes(t *testing.T, e *awsEnv) []string {
	t.Helper()
	out, err := e.raw.DescribeVolumes(context.Background(), &awsec2.DescribeVolumesInput{Filters: []types.Filter{
		{Name: aws.String("tag-key"), Values: []string{cloud.TagVolume}}}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range out.Volumes {
		ids = append(ids, aws.ToString(v.VolumeId))
	}
	return ids
}

// cliWith is cli with one more seam.
func (e *awsEnv) cliWith(seam func(*app), args ...string) cliResult {
	e.t.Helper()
	saved := e.seams
	e.seams = append(append([]func(*app){}, saved...), seam)
	defer func() { e.seams = saved }()
	return e.cli(args...)
}

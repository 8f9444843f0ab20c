package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// TestStartFlags: StarCluster's start flags mean what they meant. -r after the command is the
// refresh interval (before it, the region), -d records a description listclusters shows, and
// -V (StarCluster's skip-validation) validates and shows the plan without launching.
func TestStartFlags(t *testing.T) {
	e := newAWSEnv(t, smallCluster(""))
	var seen *app
	e.seams = []func(*app){func(a *app) { seen = a }}
	e.must("start", "-o", "-r", "7", "-d", "segway test run", "flags")
	if seen.region != "" || seen.refresh != 7 {
		t.Errorf("start -r 7: region %q, refresh interval %d; want no region and 7 s", seen.region, seen.refresh)
	}
	if n := len(e.instances("flags")); n != 3 {
		t.Fatalf("start -r: %d instances", n)
	}
	if r := e.must("listclusters", "flags"); !strings.Contains(r.out, "Description:    segway test run") {
		t.Errorf("listclusters lacks the description:\n%s", r.out)
	}
	var listed []map[string]any
	if err := json.Unmarshal([]byte(e.must("--output", "json", "listclusters").out), &listed); err != nil ||
		len(listed) != 1 || listed[0]["description"] != "segway test run" {
		t.Errorf("listclusters json: %v %v", listed, err)
	}
	r := e.must("start", "-V", "never")
	if !strings.Contains(r.out, "Would create cluster never") || !strings.Contains(r.errOut, "clusterctl does not skip validation") {
		t.Errorf("start -V: %+v", r)
	}
	if len(e.instances("never")) != 0 || len(e.groups("never")) != 0 {
		t.Error("start -V created something")
	}
	e.must("-r", "us-east-1", "listzones")
	if seen.region != "us-east-1" {
		t.Errorf("-r before the command: region %q", seen.region)
	}
	if r := e.cli("start", "-r", "-3", "x"); r.code != exitUsage {
		t.Errorf("negative refresh interval: %+v", r)
	}
	e.must("terminate", "-y", "flags")
	if r := e.must("--output", "json", "listclusters"); strings.TrimSpace(r.out) != "[]" {
		t.Errorf("listclusters --output json with no clusters: %q, want []", r.out)
	}
}

// TestListVolumesShowDeleted: volumes EC2 still reports while deleting, or as deleted, are
// listed only with -d (or when asked for by status).
func TestListVolumesShowDeleted(t *testing.T) {
	e := newAWSEnv(t, smallCluster(""))
	keep := strings.TrimSpace(e.must("createvolume", "1", "us-east-1a").out)
	gone := strings.TrimSpace(e.must("createvolume", "1", "us-east-1a").out)
	e.extra = append(e.extra, volumeStateIs(gone, types.VolumeStateDeleted))
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"listvolumes"}, []string{keep}},
		{[]string{"listvolumes", "-d"}, []string{keep, gone}},
		{[]string{"listvolumes", "--show-deleted", "-s", "1"}, []string{keep, gone}},
	} {
		var vols []cloud.Volume
		r := e.must(append([]string{"--output", "json"}, c.args...)...)
		if err := json.Unmarshal([]byte(r.out), &vols); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, v := range vols {
			ids = append(ids, v.ID)
		}
		slices.Sort(ids)
		slices.Sort(c.want)
		if !slices.Equal(ids, c.want) {
			t.Errorf("%v: %v, want %v", c.args, ids, c.want)
		}
	}
}

// volumeStateIs makes DescribeVolumes report one volume in a state moto never shows (EC2
// reports deleting and deleted volumes for a while).
func volumeStateIs(id string, state types.VolumeState) func(*middleware.Stack) error {
	return rewriteOutput("volumeStateIs", func(res *awsec2.DescribeVolumesOutput) {
		for i := range res.Volumes {
			if aws.ToString(res.Volumes[i].VolumeId) == id {
				res.Volumes[i].State = state
			}
		}
	})
}

// TestResizeVolume grows an EC2 volume in place; volumes only grow, and a volume no cluster
// mounts gets its filesystem grown at its next mount.
func TestResizeVolume(t *testing.T) {
	e := newAWSEnv(t, smallCluster(""))
	id := strings.TrimSpace(e.must("createvolume", "5", "us-east-1a").out)
	r := e.must("resizevolume", id, "8")
	if !strings.Contains(r.errOut, "volume "+id+" is 8 GB; its filesystem grows the next time a cluster mounts it") {
		t.Errorf("resizevolume: %s", r.errOut)
	}
	vols, err := e.raw.DescribeVolumes(context.Background(), &awsec2.DescribeVolumesInput{VolumeIds: []string{id}})
	if err != nil || len(vols.Volumes) != 1 || aws.ToInt32(vols.Volumes[0].Size) != 8 {
		t.Fatalf("moto's volume after resize: %+v %v", vols, err)
	}
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"resizevolume", id, "8"}, exitUsage},
		{[]string{"resizevolume", id, "4"}, exitUsage},
		{[]string{"resizevolume", id, "big"}, exitUsage},
		{[]string{"resizevolume", "vol-00000000000000000", "9"}, exitNotFound},
	} {
		if r := e.cli(c.args...); r.code != c.code {
			t.Errorf("%v: exit %d, want %d: %s", c.args, r.code, c.code, r.errOut)
		}
	}
}

// TestImageCommands: ebsimage tags the image and its snapshots as clusterctl's (with -D as the
// snapshots' description), listimages says so, and removeimage deregisters it and deletes its
// snapshots, refusing images clusterctl did not make.
func TestImageCommands(t *testing.T) {
	e := newAWSEnv(t, smallCluster(""))
	e.must("start", "-o", "-s", "1", "img")
	id := aws.ToString(e.instances("img")[0].InstanceId)
	img := strings.TrimSpace(e.must("ebsimage", "--keep-host-keys", "-d", "segway node", "-D", "segway root disk", id, "segway-node").out)
	raw, err := e.raw.DescribeImages(context.Background(), &awsec2.DescribeImagesInput{ImageIds: []string{img}})
	if err != nil || len(raw.Images) != 1 {
		t.Fatalf("image %s: %v", img, err)
	}
	var snaps []string
	for _, b := range raw.Images[0].BlockDeviceMappings {
		if b.Ebs != nil && b.Ebs.SnapshotId != nil {
			snaps = append(snaps, aws.ToString(b.Ebs.SnapshotId))
		}
	}
	if len(snaps) == 0 || tagValue(raw.Images[0].Tags, cloud.TagImage) != "ebsimage" {
		t.Fatalf("image tags %v, snapshots %v", raw.Images[0].Tags, snaps)
	}
	snapOut, err := e.raw.DescribeSnapshots(context.Background(), &awsec2.DescribeSnapshotsInput{SnapshotIds: snaps})
	if err != nil || len(snapOut.Snapshots) == 0 || tagValue(snapOut.Snapshots[0].Tags, "Description") != "segway root disk" {
		t.Errorf("snapshot description (-D): %+v %v", snapOut, err)
	}
	r := e.must("listimages")
	if !strings.Contains(r.out, "CLUSTERCTL") || !regexpLine(r.out, img, "yes") {
		t.Errorf("listimages does not mark clusterctl's image:\n%s", r.out)
	}
	if r := e.must("removeimage", "-p", img); !strings.Contains(r.errOut, "Would remove image "+img) || !strings.Contains(r.errOut, snaps[0]) {
		t.Errorf("removeimage -p: %+v", r)
	}
	if images, _ := e.raw.DescribeImages(context.Background(), &awsec2.DescribeImagesInput{ImageIds: []string{img}}); len(images.Images) != 1 {
		t.Fatal("removeimage -p removed the image")
	}
	if r := e.cli("removeimage", "-y", testImage); r.code == 0 || !strings.Contains(r.errOut, "was not made by clusterctl") {
		t.Errorf("removeimage of an image clusterctl did not make: %+v", r)
	}
	e.must("removeimage", "-y", img)
	if images, err := e.raw.DescribeImages(context.Background(), &awsec2.DescribeImagesInput{Owners: []string{"self"}}); err != nil || containsImage(images.Images, img) {
		t.Errorf("image still registered: %v", err)
	}
	left, err := e.raw.DescribeSnapshots(context.Background(), &awsec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range left.Snapshots {
		if aws.ToString(s.SnapshotId) == snaps[0] {
			t.Errorf("snapshot %s of the removed image is left", snaps[0])
		}
	}
	e.must("terminate", "-y", "img")
}

func containsImage(images []types.Image, id string) bool {
	for _, im := range images {
		if aws.ToString(im.ImageId) == id {
			return true
		}
	}
	return false
}

// regexpLine reports whether some line of text holds all the words.
func regexpLine(text string, words ...string) bool {
	for _, line := range strings.Split(text, "\n") {
		all := true
		for _, w := range words {
			all = all && strings.Contains(line, w)
		}
		if all {
			return true
		}
	}
	return false
}

// TestSpotHistoryPlotFlag: -p is StarCluster's boolean: the chart goes to a file of its own
// whose path is printed; --plot-file names it.
func TestSpotHistoryPlotFlag(t *testing.T) {
	e := newAWSEnv(t, smallCluster(""))
	r := e.cli("spothistory", "-p", "m5.large", "-d", "3650")
	if r.code != 0 {
		t.Fatalf("spothistory -p: %+v", r)
	}
	files, _ := filepath.Glob(filepath.Join(e.home, ".clusterctl", "plots", "spothistory-m5.large-us-east-1-*.png"))
	if len(files) != 1 || !strings.Contains(r.errOut, "wrote spot price chart to "+files[0]) {
		t.Fatalf("plot file %v, output %s", files, r.errOut)
	}
	if data, err := os.ReadFile(files[0]); err != nil || !strings.HasPrefix(string(data), "\x89PNG") {
		t.Errorf("not a PNG: %v", err)
	}
}

// TestDefaultRegion: with no region anywhere (flag, [aws info], AWS_REGION, profile), EC2
// commands use us-east-1, as StarCluster did, and say so once.
func TestDefaultRegion(t *testing.T) {
	e := newAWSEnv(t, smallCluster(""))
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	text, err := os.ReadFile(e.config)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.config, []byte(strings.Replace(string(text), "AWS_REGION_NAME = us-east-1\n", "", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	r := e.must("listzones")
	if strings.Count(r.errOut, "No region configured: using us-east-1") != 1 || !strings.Contains(r.out, "us-east-1a") {
		t.Errorf("listzones without a region: %+v", r)
	}
	if r := e.must("-r", "us-east-1", "listzones"); strings.Contains(r.errOut, "No region configured") {
		t.Errorf("a region was given, yet: %s", r.errOut)
	}
}

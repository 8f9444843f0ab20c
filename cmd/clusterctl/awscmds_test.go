package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cloud/ec2"
	"github.com/clusterctl/clusterctl/internal/cloud/ec2/mototest"
)

func TestKeyCommands(t *testing.T) {
	e := newAWSEnv(t, smallCluster(""))
	out := filepath.Join(e.home, "keys", "new.pem")
	r := e.must("createkey", "newkey", "-o", out)
	st, err := os.Stat(out)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v %v", st, err)
	}
	data, _ := os.ReadFile(out)
	if !bytes.Contains(data, []byte("PRIVATE KEY")) || strings.Contains(r.out+r.errOut, string(data[40:80])) {
		t.Errorf("key material missing from the file or printed: %s", r.errOut)
	}
	if r := e.cli("createkey", "again", "-o", out); r.code != exitUsage || !strings.Contains(r.errOut, "already exists") {
		t.Errorf("overwrite of a key file: %+v", r)
	}
	r = e.must("listkeypairs")
	if !strings.Contains(r.out, "newkey") || !strings.Contains(r.out, "mykey") {
		t.Errorf("listkeypairs: %s", r.out)
	}
	e.must("removekey", "-y", "newkey")
	keys, err := e.raw.DescribeKeyPairs(context.Background(), &awsec2.DescribeKeyPairsInput{})
	if err != nil || len(keys.KeyPairs) != 1 || aws.ToString(keys.KeyPairs[0].KeyName) != "mykey" {
		t.Errorf("after removekey: %+v %v", keys, err)
	}
}

func TestVolumeCommands(t *testing.T) {
	e := newAWSEnv(t, smallCluster(""))
	r := e.must("createvolume", "5", "us-east-1a", "-n", "results", "-t", "project=segway")
	id := strings.TrimSpace(r.out)
	vols, err := e.raw.DescribeVolumes(context.Background(), &awsec2.DescribeVolumesInput{VolumeIds: []string{id}})
	if err != nil || len(vols.Volumes) != 1 {
		t.Fatalf("volume %q not in moto: %v", id, err)
	}
	v := vols.Volumes[0]
	if !aws.ToBool(v.Encrypted) || aws.ToInt32(v.Size) != 5 || tagValue(v.Tags, cloud.TagFormat) != "true" ||
		tagValue(v.Tags, "Name") != "results" || tagValue(v.Tags, "project") != "segway" {
		t.Errorf("volume: encrypted=%v size=%d tags=%v", aws.ToBool(v.Encrypted), aws.ToInt32(v.Size), v.Tags)
	}
	e.must("createvolume", "7", "us-east-1b")
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"listvolumes"}, 2},
		{[]string{"listvolumes", "-n", "results"}, 1},
		{[]string{"listvolumes", "-s", "7"}, 1},
		{[]string{"listvolumes", "-z", "us-east-1b"}, 1},
		{[]string{"listvolumes", "-t", "project=segway"}, 1},
		{[]string{"listvolumes", "-S", "in-use"}, 0},
		{[]string{"listvolumes", "-a", "detached"}, 2},
	} {
		r := e.must(append([]string{"--output", "json"}, c.args...)...)
		var got []cloud.Volume
		if err := json.Unmarshal([]byte(r.out), &got); err != nil || len(got) != c.want {
			t.Errorf("%v: %d volumes (%v), want %d", c.args, len(got), err, c.want)
		}
	}
	// A volume in use is refused, and nothing is deleted.
	insts, err := e.raw.RunInstances(context.Background(), &awsec2.RunInstancesInput{ImageId: aws.String(testImage), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.raw.AttachVolume(context.Background(), &awsec2.AttachVolumeInput{VolumeId: aws.String(id),
		InstanceId: insts.Instances[0].InstanceId, Device: aws.String("/dev/sdf")}); err != nil {
		t.Fatal(err)
	}
	if r := e.cli("removevolume", "-y", id); r.code == 0 || !strings.Contains(r.errOut, "in-use") {
		t.Errorf("removevolume of an attached volume: %+v", r)
	}
	r = e.must("--output", "json", "listvolumes", "-n", "results")
	if !strings.Contains(r.out, id) {
		t.Errorf("the in-use volume was deleted")
	}
	other := strings.TrimSpace(e.must("createvolume", "1", "us-east-1a").out)
	e.must("removevolume", "-y", other)
	if r := e.cli("removevolume", "-y", other); r.code != exitNotFound {
		t.Errorf("removing a missing volume: %+v", r)
	}
}

func TestCatalogCommands(t *testing.T) {
	e := newAWSEnv(t, smallCluster(""))
	if r := e.must("listregions"); !strings.Contains(r.out, "us-east-1") || !strings.Contains(r.out, "eu-west-1") {
		t.Errorf("listregions: %s", r.out)
	}
	if r := e.must("listzones"); !strings.Contains(r.out, "us-east-1a") {
		t.Errorf("listzones: %s", r.out)
	}
	r := e.must("listpublic")
	for _, want := range []string{mototest.ImageAMD64, mototest.ImageARM64, mototest.ImageUbuntuNoble, "debian-12-amd64"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("listpublic lacks %s:\n%s", want, r.out)
		}
	}
	if strings.Contains(r.out, mototest.ImageAMD64Old) {
		t.Errorf("listpublic shows an outdated image:\n%s", r.out)
	}
	if r := e.must("listimages", "-x"); !strings.Contains(r.out, mototest.ImageAMD64) {
		t.Errorf("listimages -x: %s", r.out)
	}
	e.must("listimages")

	e.must("start", "-o", "-s", "2", "--bid", "0.2", "cat")
	r = e.must("listinstances")
	if strings.Count(r.out, "cat ") < 2 || !strings.Contains(r.out, "master") {
		t.Errorf("listinstances: %s", r.out)
	}
	e.must("listspots", "-c")
	var id string
	for _, in := range e.instances("cat") {
		if ec2.InstanceOf(in).Alias == "master" {
			id = aws.ToString(in.InstanceId)
		}
	}
	if r := e.cli("showconsole", id); r.code != 0 {
		t.Errorf("showconsole: %+v", r)
	}
	if r := e.cli("showconsole", "i-00000000000000000"); r.code == 0 {
		t.Errorf("showconsole of a missing instance succeeded")
	}
	// ebsimage: an image of a cluster node, tagged with its cluster, usable as NODE_IMAGE_ID
	// (moto runs no sshd to scrub: TestEBSImageScrubsHostKeys).
	img := strings.TrimSpace(e.must("ebsimage", "--keep-host-keys", "-d", "segway node", id, "my-node-image").out)
	images, err := e.raw.DescribeImages(context.Background(), &awsec2.DescribeImagesInput{ImageIds: []string{img}})
	if err != nil || len(images.Images) != 1 || aws.ToString(images.Images[0].Name) != "my-node-image" ||
		tagValue(images.Images[0].Tags, "clusterctl:source-cluster") != "cat" {
		t.Errorf("image %q: %+v %v", img, images, err)
	}
	if r := e.cli("ebsimage", "--scrub", "i-00000000000000000", "x"); r.code == 0 {
		t.Error("--scrub of an unknown instance succeeded")
	}
	e.must("terminate", "-y", "cat")
}

func TestSpotHistory(t *testing.T) {
	e := newAWSEnv(t, smallCluster(""))
	plot := filepath.Join(e.home, "prices.svg")
	r := e.cli("spothistory", "m5.large", "-d", "3650", "--plot-file", plot)
	switch {
	case r.code == exitNotFound:
		t.Logf("moto served no price history: %s", r.errOut)
		if !strings.Contains(r.errOut, "no spot price history for m5.large") {
			t.Errorf("empty history message: %s", r.errOut)
		}
	case r.code == 0:
		if !strings.Contains(r.out, "CURRENT") || !strings.Contains(r.out, "$") {
			t.Errorf("spothistory table: %s", r.out)
		}
		data, err := os.ReadFile(plot)
		if err != nil || !bytes.HasPrefix(data, []byte("<?xml")) {
			t.Errorf("plot: %v", err)
		}
	default:
		t.Fatalf("spothistory: %+v", r)
	}
	if r := e.cli("spothistory", "m5.large", "-s", "yesterday"); r.code != exitUsage {
		t.Errorf("bad start time: %+v", r)
	}
}

package ec2

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

func TestVolumes(t *testing.T) {
	e := newEnv(t)
	insts := launchN(t, e, "vc", 1)
	zone := insts[0].Zone

	data, err := e.p.CreateVolume(e.ctx, cloud.VolumeSpec{SizeGB: 5, Zone: zone, Name: "data",
		Tags: map[string]string{cloud.TagCluster: "vc", "project": "segway"}})
	if err != nil {
		t.Fatal(err)
	}
	other, err := e.p.CreateVolume(e.ctx, cloud.VolumeSpec{SizeGB: 1, Zone: "us-east-1c", Name: "scratch"})
	if err != nil {
		t.Fatal(err)
	}

	// What moto holds for the created volume.
	out, err := e.raw.DescribeVolumes(e.ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{data.ID}})
	if err != nil {
		t.Fatal(err)
	}
	v := out.Volumes[0]
	tags := tagMap(v.Tags)
	if !aws.ToBool(v.Encrypted) || v.VolumeType != types.VolumeTypeGp3 || aws.ToInt32(v.Size) != 5 ||
		aws.ToString(v.AvailabilityZone) != zone || tags[cloud.TagName] != "data" || tags["project"] != "segway" {
		t.Fatalf("moto volume: encrypted %v type %s size %d zone %s tags %v",
			aws.ToBool(v.Encrypted), v.VolumeType, aws.ToInt32(v.Size), aws.ToString(v.AvailabilityZone), tags)
	}

	filters := []struct {
		name string
		f    cloud.VolumeFilter
		want []string
	}{
		{"by id, unknown ids skipped", cloud.VolumeFilter{IDs: []string{data.ID, "vol-0000000000000000f"}}, []string{data.ID}},
		{"by name", cloud.VolumeFilter{Name: "scratch"}, []string{other.ID}},
		{"by cluster", cloud.VolumeFilter{Cluster: "vc", Name: "data"}, []string{data.ID}},
		{"by zone and state", cloud.VolumeFilter{Zone: "us-east-1c", State: "available"}, []string{other.ID}},
		{"by tag value", cloud.VolumeFilter{Tags: map[string]string{"project": "segway"}}, []string{data.ID}},
		{"by tag key", cloud.VolumeFilter{Tags: map[string]string{"project": ""}}, []string{data.ID}},
		{"nothing", cloud.VolumeFilter{Name: "nope"}, nil},
	}
	for _, tc := range filters {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.p.Volumes(e.ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var gotIDs []string
			for _, v := range got {
				gotIDs = append(gotIDs, v.ID)
			}
			if len(gotIDs) != len(tc.want) || (len(gotIDs) > 0 && gotIDs[0] != tc.want[0]) {
				t.Fatalf("Volumes(%+v) = %v, want %v", tc.f, gotIDs, tc.want)
			}
		})
	}

	if err := e.p.AttachVolume(e.ctx, data.ID, insts[0].ID, "/dev/sdf"); err != nil {
		t.Fatal(err)
	}
	att, err := e.p.Volumes(e.ctx, cloud.VolumeFilter{IDs: []string{data.ID}})
	if err != nil || att[0].State != "in-use" || att[0].AttachedTo != insts[0].ID || att[0].Device != "/dev/sdf" {
		t.Fatalf("after attach: %+v, %v", att, err)
	}
	if err := e.p.DetachVolume(e.ctx, data.ID); err != nil {
		t.Fatal(err)
	}
	out, err = e.raw.DescribeVolumes(e.ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{data.ID}})
	if err != nil || out.Volumes[0].State != types.VolumeStateAvailable || len(out.Volumes[0].Attachments) != 0 {
		t.Fatalf("after detach moto has %+v, %v", out.Volumes, err)
	}
	if err := e.p.DeleteVolume(e.ctx, data.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.raw.DescribeVolumes(e.ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{data.ID}}); apiCode(err) != codeVolumeNotFound {
		t.Fatalf("deleted volume still described: %v", err)
	}
	if err := e.p.DeleteVolume(e.ctx, data.ID); !errors.Is(err, cloud.ErrNotFound) {
		t.Fatalf("second delete: %v, want ErrNotFound", err)
	}
}

package ec2

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// Volumes lists volumes matching f, with StarCluster's listvolumes filters (ids, Name tag,
// state, zone, tags) plus the cluster tag. Ids go through the volume-id filter, so an unknown id
// is simply absent from the result (Preflight reports it) instead of failing the whole call.
func (p *Provider) Volumes(ctx context.Context, f cloud.VolumeFilter) ([]cloud.Volume, error) {
	var filters []types.Filter
	if f.Name != "" {
		filters = append(filters, filter("tag:"+cloud.TagName, f.Name))
	}
	if f.State != "" {
		filters = append(filters, filter("status", f.State))
	}
	if f.Zone != "" {
		filters = append(filters, filter("availability-zone", f.Zone))
	}
	if f.Cluster != "" {
		filters = append(filters, clusterFilter(f.Cluster))
	}
	filters = append(filters, tagFilters(f.Tags)...)
	var out []cloud.Volume
	err := byIDs(filters, "volume-id", f.IDs, func(fs []types.Filter) error {
		pages := ec2.NewDescribeVolumesPaginator(p.api, &ec2.DescribeVolumesInput{Filters: fs, MaxResults: aws.Int32(500)})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("describe volumes: %w", err)
			}
			for _, v := range page.Volumes {
				out = append(out, toVolume(v))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b cloud.Volume) int {
		if a.Name != b.Name {
			return cmp.Compare(a.Name, b.Name)
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// toVolume maps an EBS volume to the engine's view.
func toVolume(v types.Volume) cloud.Volume {
	tags := tagMap(v.Tags)
	out := cloud.Volume{
		ID:         aws.ToString(v.VolumeId),
		Name:       tags[cloud.TagName],
		SizeGB:     int(aws.ToInt32(v.Size)),
		Zone:       aws.ToString(v.AvailabilityZone),
		State:      string(v.State),
		Encrypted:  aws.ToBool(v.Encrypted),
		CreateTime: aws.ToTime(v.CreateTime),
		SnapshotID: aws.ToString(v.SnapshotId),
		Tags:       tags,
	}
	if len(v.Attachments) > 0 {
		out.AttachedTo = aws.ToString(v.Attachments[0].InstanceId)
		out.Device = aws.ToString(v.Attachments[0].Device)
	}
	return out
}

// volume returns one volume by id, or an error wrapping cloud.ErrNotFound.
func (p *Provider) volume(ctx context.Context, id string) (types.Volume, error) {
	out, err := p.api.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id}})
	if isCode(err, codeVolumeNotFound) || (err == nil && len(out.Volumes) == 0) {
		return types.Volume{}, notFound("volume %s in %s", id, p.region)
	}
	if err != nil {
		return types.Volume{}, fmt.Errorf("describe volume %s: %w", id, err)
	}
	return out.Volumes[0], nil
}

package ec2

import (
	"context"
	"fmt"
	"regexp"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// bidPattern is what a spot bid read back from a tag must look like (a tag is anyone's to
// rewrite): a decimal price.
var bidPattern = regexp.MustCompile(`^[0-9]{1,6}(\.[0-9]{1,8})?$`)

// describePageSize is the largest page DescribeInstances returns; with it one page covers a
// 1000-node cluster, so a poll is one call.
const describePageSize = 1000

// Instances lists the cluster's instances that are not terminated, sorted by alias, in one
// paginated DescribeInstances by cluster tag (StarCluster's `cluster.nodes` made a call per
// access and per node).
func (p *Provider) Instances(ctx context.Context, tag string) ([]cloud.Instance, error) {
	raw, err := p.describeInstances(ctx, clusterFilter(tag), filter("instance-state-name", aliveStates()...))
	if err != nil {
		return nil, fmt.Errorf("instances of cluster %s: %w", tag, err)
	}
	out := make([]cloud.Instance, len(raw))
	for i, in := range raw {
		out[i] = toInstance(in)
	}
	cloud.SortInstances(out)
	return out, nil
}

// AllInstances lists every instance in the region, clusterctl's or not, for `listinstances`;
// terminated ones only when showTerminated is set. Instances of clusters sort first, by cluster
// and alias, then the others by id.
func (p *Provider) AllInstances(ctx context.Context, showTerminated bool) ([]cloud.Instance, error) {
	var filters []types.Filter
	if !showTerminated {
		filters = append(filters, filter("instance-state-name", aliveStates()...))
	}
	raw, err := p.describeInstances(ctx, filters...)
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	out := make([]cloud.Instance, len(raw))
	for i, in := range raw {
		out[i] = toInstance(in)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.Cluster == "") != (b.Cluster == "") {
			return a.Cluster != ""
		}
		if a.Cluster != b.Cluster {
			return a.Cluster < b.Cluster
		}
		if a.Alias != b.Alias {
			return cloud.AliasLess(a.Alias, b.Alias)
		}
		return a.ID < b.ID
	})
	return out, nil
}

// describeInstances returns every instance matching the filters, all pages.
func (p *Provider) describeInstances(ctx context.Context, filters ...types.Filter) ([]types.Instance, error) {
	var out []types.Instance
	pages := ec2.NewDescribeInstancesPaginator(p.api, &ec2.DescribeInstancesInput{
		Filters: filters, MaxResults: aws.Int32(describePageSize),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe instances: %w", err)
		}
		for _, r := range page.Reservations {
			out = append(out, r.Instances...)
		}
	}
	return out, nil
}

// InstanceOf maps an instance as EC2's API returns it to clusterctl's view, reading its alias
// and host key from whichever tags name it (its own, or its launch's shared ones): for tests
// that look at what the API holds.
func InstanceOf(in types.Instance) cloud.Instance { return toInstance(in) }

// InstanceAlias is the alias clusterctl gave an instance, from its own alias tag or, for one of
// several launched together, from the launch's shared tags by its launch index; "" when it has
// none (or the tags do not pass their checks).
func InstanceAlias(in types.Instance) string { return toInstance(in).Alias }

// toInstance maps EC2's view of an instance to the engine's.
func toInstance(in types.Instance) cloud.Instance {
	tags := tagMap(in.Tags)
	out := cloud.Instance{
		ID:            aws.ToString(in.InstanceId),
		Cluster:       tags[cloud.TagCluster],
		Alias:         tags[cloud.TagAlias],
		Role:          cloud.Role(tags[cloud.TagRole]),
		PrivateIP:     aws.ToString(in.PrivateIpAddress),
		PublicIP:      aws.ToString(in.PublicIpAddress),
		PublicDNS:     aws.ToString(in.PublicDnsName),
		SpotRequestID: aws.ToString(in.SpotInstanceRequestId),
		Lifecycle:     cloud.OnDemand,
		LaunchTime:    aws.ToTime(in.LaunchTime),
		InstanceType:  string(in.InstanceType),
		ImageID:       aws.ToString(in.ImageId),
		KeyName:       aws.ToString(in.KeyName),
		SubnetID:      aws.ToString(in.SubnetId),
		VPCID:         aws.ToString(in.VpcId),
		HostKey:       tags[cloud.TagHostKey],
		Tags:          tags,
	}
	if out.Alias == "" {
		// One of several instances named at launch by their launch index (batchTags).
		if alias, key, ok := batchMember(tags, int(aws.ToInt32(in.AmiLaunchIndex))); ok {
			out.Alias = alias
			if out.HostKey == "" {
				out.HostKey = key
			}
		}
	}
	if in.State != nil {
		out.State = string(in.State.Name)
	}
	if in.StateReason != nil {
		out.StateReason = aws.ToString(in.StateReason.Message)
	}
	if bid := tags[cloud.TagBid]; bidPattern.MatchString(bid) {
		out.SpotPrice = bid
	}
	if in.InstanceLifecycle == types.InstanceLifecycleTypeSpot || out.SpotRequestID != "" {
		out.Lifecycle = cloud.Spot
	}
	if in.Placement != nil {
		out.Zone = aws.ToString(in.Placement.AvailabilityZone)
	}
	for _, g := range in.SecurityGroups {
		out.Groups = append(out.Groups, aws.ToString(g.GroupId))
	}
	return out
}

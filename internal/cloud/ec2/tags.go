package ec2

import (
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// tagCreated records when a cluster's group was created: security groups have no creation time
// of their own. (Proposed for internal/cloud/tags.go as cloud.TagCreated.)
const tagCreated = "clusterctl:created"

// maxTagsPerResource is EC2's limit on tags per resource, which bounds the recorded template.
const maxTagsPerResource = 50

// tagMap turns EC2's tag list into a map.
func tagMap(tags []types.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// tagList turns a map into EC2's tag list, sorted by key so requests are reproducible.
func tagList(m map[string]string) []types.Tag {
	tags := make([]types.Tag, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		tags = append(tags, types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return tags
}

// tagSpec tags a resource at creation, so it is never visible untagged (and so never lost to a
// crash between create and tag).
func tagSpec(rt types.ResourceType, m map[string]string) types.TagSpecification {
	return types.TagSpecification{ResourceType: rt, Tags: tagList(m)}
}

// filter builds one EC2 filter; EC2 ORs the values and ANDs the filters.
func filter(name string, values ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: values}
}

// clusterFilter matches every resource of one cluster.
func clusterFilter(tag string) types.Filter {
	return filter("tag:"+cloud.TagCluster, tag)
}

// aliveStates are the instance states that count as part of a cluster (StarCluster's list plus
// shutting-down, so a terminating node is still seen until it is gone).
func aliveStates() []string {
	return []string{
		string(types.InstanceStateNamePending), string(types.InstanceStateNameRunning),
		string(types.InstanceStateNameStopping), string(types.InstanceStateNameStopped),
		string(types.InstanceStateNameShuttingDown),
	}
}

// chunks splits ids into slices of at most n, for APIs that cap their list sizes.
func chunks(ids []string, n int) [][]string {
	var out [][]string
	for len(ids) > 0 {
		k := min(n, len(ids))
		out = append(out, ids[:k])
		ids = ids[k:]
	}
	return out
}

package ec2

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

var _ cloud.GoneLister = (*Provider)(nil)

// Gone lists the cluster's terminated instances that clusterctl did not terminate (Terminate
// marks its own with cloud.TagRemoved first): spot instances EC2 took back, instances someone
// terminated from the console. EC2 shows terminated instances for about an hour, so this is
// how every command on the cluster can say that a node vanished, in one call.
func (p *Provider) Gone(ctx context.Context, tag string) ([]cloud.Instance, error) {
	raw, err := p.describeInstances(ctx, clusterFilter(tag), filter("instance-state-name", "terminated"))
	if err != nil {
		return nil, fmt.Errorf("terminated instances of cluster %s: %w", tag, err)
	}
	var out []cloud.Instance
	for _, r := range raw {
		in := toInstance(r)
		if _, ours := in.Tags[cloud.TagRemoved]; ours {
			continue
		}
		out = append(out, in)
	}
	cloud.SortInstances(out)
	return out, nil
}

// markRemoved tags instances as terminated by clusterctl, so Gone does not report them. It is
// best effort: an instance EC2 already forgot needs no mark, and a missing mark only makes a
// node clusterctl removed itself show as vanished for the hour EC2 still lists it.
func (p *Provider) markRemoved(ctx context.Context, ids []string) {
	now := time.Now().UTC().Format(time.RFC3339)
	for _, batch := range chunks(ids, idsPerCall) {
		_, _ = p.api.CreateTags(ctx, &ec2.CreateTagsInput{Resources: batch, Tags: tagList(map[string]string{cloud.TagRemoved: now})})
	}
}

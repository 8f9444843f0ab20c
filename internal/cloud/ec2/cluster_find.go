package ec2

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// GetCluster finds the cluster's group by its cluster tag (not by name, so a group a user
// happened to call @sc-x is never mistaken for a cluster) and decodes the recorded template.
// When only the record is damaged, the error comes with the cluster's group filled in.
func (p *Provider) GetCluster(ctx context.Context, tag string) (cloud.Cluster, error) {
	groups, err := p.describeGroups(ctx, clusterFilter(tag))
	if err != nil {
		return cloud.Cluster{}, fmt.Errorf("get cluster %s: %w", tag, err)
	}
	if len(groups) == 0 {
		return cloud.Cluster{}, notFound("cluster %s in %s", tag, p.region)
	}
	if len(groups) > 1 {
		ids := make([]string, len(groups))
		for i, g := range groups {
			ids[i] = aws.ToString(g.GroupId) + " (" + aws.ToString(g.VpcId) + ")"
		}
		return cloud.Cluster{}, fmt.Errorf("cluster %s is claimed by %d security groups: %s", tag, len(groups), strings.Join(ids, ", "))
	}
	c, err := toCluster(groups[0])
	if err != nil {
		// The group is still returned, so a damaged cluster can be terminated.
		return c, fmt.Errorf("cluster %s: %w", tag, err)
	}
	return c, nil
}

// ListClusters returns every cluster in the region, sorted by tag. A cluster whose recorded
// template cannot be decoded is still listed (with no record), so a damaged cluster can be
// seen and terminated; GetCluster reports the damage.
func (p *Provider) ListClusters(ctx context.Context) ([]cloud.Cluster, error) {
	groups, err := p.describeGroups(ctx, filter("tag-key", cloud.TagCluster))
	if err != nil {
		return nil, fmt.Errorf("list clusters: %w", err)
	}
	clusters := make([]cloud.Cluster, 0, len(groups))
	for _, g := range groups {
		c, err := toCluster(g)
		if err != nil {
			c.Recorded = nil
		}
		clusters = append(clusters, c)
	}
	sort.Slice(clusters, func(i, j int) bool { return clusters[i].Tag < clusters[j].Tag })
	return clusters, nil
}

// toCluster maps a tagged group to a cluster; the error is about the recorded template only,
// the returned cluster is filled in either way.
func toCluster(g types.SecurityGroup) (cloud.Cluster, error) {
	tags := tagMap(g.Tags)
	c := cloud.Cluster{
		Tag:       tags[cloud.TagCluster],
		GroupID:   aws.ToString(g.GroupId),
		GroupName: aws.ToString(g.GroupName),
		VPCID:     aws.ToString(g.VpcId),
	}
	if t, err := time.Parse(time.RFC3339, tags[tagCreated]); err == nil {
		c.CreatedAt = t
	}
	rec, err := cloud.DecodeRecord(tags)
	if err == nil {
		err = cloud.CheckRecordSeal(aws.ToString(g.Description), rec)
	}
	if err != nil {
		return c, err
	}
	c.Recorded, c.Sealed = rec, cloud.HasRecordSeal(aws.ToString(g.Description))
	return c, nil
}

// DeleteCluster deletes the cluster's group. EC2 refuses while instances (even terminating
// ones) still use it, with DependencyViolation or InvalidGroup.InUse; that is retried on a
// ticker until ctx's deadline (cloud.DefaultWaitTimeout when none), as StarCluster did. A
// cluster that is already gone is not an error.
func (p *Provider) DeleteCluster(ctx context.Context, tag string) error {
	c, err := p.GetCluster(ctx, tag)
	if errors.Is(err, cloud.ErrNotFound) {
		return nil
	}
	if err != nil && c.GroupID == "" {
		return fmt.Errorf("delete cluster %s: %w", tag, err)
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	var last error
	err = poll(ctx, p.poll, func(ctx context.Context) (bool, error) {
		_, err := p.api.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(c.GroupID)})
		switch {
		case err == nil, isCode(err, codeGroupNotFound):
			return true, nil
		case isCode(err, codeDependency, codeGroupInUse):
			last = err
			return false, nil
		default:
			return false, err
		}
	})
	if err != nil {
		if last != nil && ctx.Err() != nil {
			return fmt.Errorf("delete security group %s of cluster %s: still in use when giving up: %w", c.GroupID, tag, errors.Join(last, err))
		}
		return fmt.Errorf("delete security group %s of cluster %s: %w", c.GroupID, tag, err)
	}
	return nil
}

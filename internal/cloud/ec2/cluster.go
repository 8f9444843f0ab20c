package ec2

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// groupDescription is the security group's description; EC2 shows it in the console next to the
// StarCluster-style name. It also carries the recorded template's seal (its SHA-256): EC2 never
// lets a description change, so whoever can rewrite the group's tags still cannot make a
// changed record pass (cloud.CheckRecordSeal).
func groupDescription(tag string, recorded []byte) string {
	d := "clusterctl cluster " + tag
	if len(recorded) > 0 {
		d += " " + cloud.RecordSeal(recorded)
	}
	return d
}

// CreateCluster creates the cluster's security group @sc-TAG with its identity tags and the
// recorded template set at creation, then opens all traffic from the group itself plus
// spec.Rules. Unlike StarCluster, no rule is added that the spec does not list (StarCluster
// always opened SSH to 0.0.0.0/0). A half-made group is deleted again on failure.
func (p *Provider) CreateCluster(ctx context.Context, spec cloud.GroupSpec) (cloud.Cluster, error) {
	if spec.Tag == "" {
		return cloud.Cluster{}, fmt.Errorf("create cluster: empty tag")
	}
	vpc, err := p.resolveVPC(ctx, spec.VPCID)
	if err != nil {
		return cloud.Cluster{}, fmt.Errorf("create cluster %s: %w", spec.Tag, err)
	}
	name := cloud.GroupPrefix + spec.Tag
	existing, err := p.describeGroups(ctx, filter("group-name", name), filter("vpc-id", vpc))
	if err != nil {
		return cloud.Cluster{}, fmt.Errorf("create cluster %s: %w", spec.Tag, err)
	}
	if len(existing) > 0 {
		return cloud.Cluster{}, fmt.Errorf("cluster %s (group %s in %s): %w", spec.Tag, name, vpc, cloud.ErrExists)
	}
	now := time.Now().UTC().Truncate(time.Second)
	tags := map[string]string{
		cloud.TagCluster: spec.Tag,
		cloud.TagVersion: p.version,
		cloud.TagName:    name,
		tagCreated:       now.Format(time.RFC3339),
	}
	if len(spec.Recorded) > 0 {
		for k, v := range cloud.EncodeRecord(spec.Recorded) {
			tags[k] = v
		}
	}
	if len(tags) > maxTagsPerResource {
		return cloud.Cluster{}, fmt.Errorf("create cluster %s: recorded template needs %d tags, over EC2's limit of %d per resource",
			spec.Tag, len(tags), maxTagsPerResource)
	}
	out, err := p.api.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName:         aws.String(name),
		Description:       aws.String(groupDescription(spec.Tag, spec.Recorded)),
		VpcId:             aws.String(vpc),
		TagSpecifications: []types.TagSpecification{tagSpec(types.ResourceTypeSecurityGroup, tags)},
	})
	if isCode(err, codeGroupDuplicate) {
		return cloud.Cluster{}, fmt.Errorf("cluster %s: %w", spec.Tag, cloud.ErrExists)
	}
	if err != nil {
		return cloud.Cluster{}, fmt.Errorf("create security group %s: %w", name, err)
	}
	gid := aws.ToString(out.GroupId)
	perms, err := ingress(gid, spec.Rules)
	if err == nil {
		_, err = p.api.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
			GroupId: aws.String(gid), IpPermissions: perms,
		})
	}
	if err != nil {
		// Best effort: a group without its rules would only confuse the next start.
		_, _ = p.api.DeleteSecurityGroup(context.WithoutCancel(ctx), &ec2.DeleteSecurityGroupInput{GroupId: aws.String(gid)})
		return cloud.Cluster{}, fmt.Errorf("authorize ingress on %s: %w", name, err)
	}
	return cloud.Cluster{Tag: spec.Tag, GroupID: gid, GroupName: name, VPCID: vpc, CreatedAt: now,
		Recorded: slices.Clone(spec.Recorded)}, nil
}

// ingress builds the group's rules: everything from the group itself, then each spec rule.
func ingress(groupID string, rules []cloud.Rule) ([]types.IpPermission, error) {
	perms := []types.IpPermission{{
		IpProtocol:       aws.String("-1"),
		UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(groupID)}},
	}}
	for _, r := range rules {
		proto := strings.ToLower(r.Protocol)
		if proto == "all" || proto == "" {
			proto = "-1"
		}
		if _, _, err := net.ParseCIDR(r.CIDR); err != nil {
			return nil, fmt.Errorf("rule %s %d-%d: bad cidr %q", r.Protocol, r.FromPort, r.ToPort, r.CIDR)
		}
		perm := types.IpPermission{IpProtocol: aws.String(proto)}
		if proto != "-1" {
			perm.FromPort = aws.Int32(int32(r.FromPort))
			perm.ToPort = aws.Int32(int32(r.ToPort))
		}
		if strings.Contains(r.CIDR, ":") {
			perm.Ipv6Ranges = []types.Ipv6Range{{CidrIpv6: aws.String(r.CIDR)}}
		} else {
			perm.IpRanges = []types.IpRange{{CidrIp: aws.String(r.CIDR)}}
		}
		perms = append(perms, perm)
	}
	return perms, nil
}

// resolveVPC returns vpc, or the region's default VPC when vpc is empty.
func (p *Provider) resolveVPC(ctx context.Context, vpc string) (string, error) {
	if vpc != "" {
		return vpc, nil
	}
	out, err := p.api.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{filter("is-default", "true")}})
	if err != nil {
		return "", fmt.Errorf("find default vpc: %w", err)
	}
	if len(out.Vpcs) == 0 {
		return "", fmt.Errorf("no default vpc in %s: set subnet_id in the cluster template", p.region)
	}
	return aws.ToString(out.Vpcs[0].VpcId), nil
}

// describeGroups lists security groups matching the filters, all pages.
func (p *Provider) describeGroups(ctx context.Context, filters ...types.Filter) ([]types.SecurityGroup, error) {
	var groups []types.SecurityGroup
	pages := ec2.NewDescribeSecurityGroupsPaginator(p.api, &ec2.DescribeSecurityGroupsInput{Filters: filters})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe security groups: %w", err)
		}
		groups = append(groups, page.SecurityGroups...)
	}
	return groups, nil
}

package ec2

import (
	"context"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// checkImagesAndTypes checks each image (exists, available), each instance type (exists, is
// offered where the request launches: its zone when known, else the region) and that each
// request's image architecture is one its instance type supports.
func (p *Provider) checkImagesAndTypes(ctx context.Context, plan cloud.Plan, zones []string, pc *preflight) {
	arch := map[string]string{} // image -> architecture, for images that exist
	for _, id := range unique(plan.Requests, func(r cloud.LaunchRequest) string { return r.ImageID }) {
		out, err := p.api.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
		switch {
		case isCode(err, codeAMINotFound, codeAMIMalformed, codeAMIUnavailable) || (err == nil && len(out.Images) == 0):
			pc.addf("image %s not found in %s", id, p.region)
		case err != nil:
			pc.addf("image %s: %w", id, err)
		case out.Images[0].State != types.ImageStateAvailable:
			pc.addf("image %s is %s, not available", id, out.Images[0].State)
		default:
			arch[id] = string(out.Images[0].Architecture)
		}
	}
	supported := map[string][]string{} // instance type -> architectures, for types that exist
	for _, t := range unique(plan.Requests, func(r cloud.LaunchRequest) string { return r.InstanceType }) {
		out, err := p.api.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: []types.InstanceType{types.InstanceType(t)}})
		switch {
		case isCode(err, codeInstanceType) || (err == nil && len(out.InstanceTypes) == 0):
			pc.addf("instance type %s does not exist in %s", t, p.region)
		case err != nil:
			pc.addf("instance type %s: %w", t, err)
		default:
			var archs []string
			if pi := out.InstanceTypes[0].ProcessorInfo; pi != nil {
				for _, a := range pi.SupportedArchitectures {
					archs = append(archs, string(a))
				}
			}
			supported[t] = archs
		}
	}
	offered := map[string][]string{} // location ("" = region) -> types to check there
	for i, req := range plan.Requests {
		if a, ok := arch[req.ImageID]; ok {
			if archs, ok := supported[req.InstanceType]; ok && len(archs) > 0 && !slices.Contains(archs, a) {
				pc.addf("%s: image %s is %s but instance type %s supports only %s",
					req.Role, req.ImageID, a, req.InstanceType, strings.Join(archs, ", "))
			}
		}
		if _, ok := supported[req.InstanceType]; ok && !slices.Contains(offered[zones[i]], req.InstanceType) {
			offered[zones[i]] = append(offered[zones[i]], req.InstanceType)
		}
	}
	for _, loc := range sortedKeys(offered) {
		p.checkOfferings(ctx, loc, offered[loc], pc)
	}
}

// checkOfferings checks that every instance type is offered in zone ("" = the region).
func (p *Provider) checkOfferings(ctx context.Context, zone string, typeNames []string, pc *preflight) {
	in := &ec2.DescribeInstanceTypeOfferingsInput{
		LocationType: types.LocationTypeRegion,
		Filters:      []types.Filter{filter("location", p.region), filter("instance-type", typeNames...)},
	}
	where := p.region
	if zone != "" {
		in.LocationType = types.LocationTypeAvailabilityZone
		in.Filters[0] = filter("location", zone)
		where = zone
	}
	have := map[string]bool{}
	pages := ec2.NewDescribeInstanceTypeOfferingsPaginator(p.api, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			pc.addf("instance type offerings in %s: %w", where, err)
			return
		}
		for _, o := range page.InstanceTypeOfferings {
			have[string(o.InstanceType)] = true
		}
	}
	for _, t := range typeNames {
		if !have[t] {
			pc.addf("instance type %s is not offered in %s", t, where)
		}
	}
}

// checkSubnets checks that each subnet exists, lies in the request's zone and in the VPC of the
// cluster's group (when the request names one), and that all subnets share one VPC. It returns
// each existing subnet's zone.
func (p *Provider) checkSubnets(ctx context.Context, plan cloud.Plan, pc *preflight) map[string]string {
	zones := map[string]string{}
	vpcs := map[string]string{}
	for _, id := range unique(plan.Requests, func(r cloud.LaunchRequest) string { return r.SubnetID }) {
		out, err := p.api.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{id}})
		switch {
		case isCode(err, codeSubnetNotFound) || (err == nil && len(out.Subnets) == 0):
			pc.addf("subnet %s not found in %s", id, p.region)
		case err != nil:
			pc.addf("subnet %s: %w", id, err)
		default:
			zones[id] = aws.ToString(out.Subnets[0].AvailabilityZone)
			vpcs[id] = aws.ToString(out.Subnets[0].VpcId)
		}
	}
	if distinct := uniqueValues(vpcs); len(distinct) > 1 {
		pc.addf("subnets of one cluster must share a vpc, these are in %s", strings.Join(distinct, ", "))
	}
	groupVPC := map[string]string{}
	for _, req := range plan.Requests {
		z, ok := zones[req.SubnetID]
		if !ok {
			continue
		}
		if req.Zone != "" && z != req.Zone {
			pc.addf("subnet %s is in %s, not in the requested zone %s", req.SubnetID, z, req.Zone)
		}
		if req.GroupID == "" {
			continue
		}
		if _, done := groupVPC[req.GroupID]; !done {
			groups, err := p.describeGroups(ctx, filter("group-id", req.GroupID))
			groupVPC[req.GroupID] = ""
			if err == nil && len(groups) > 0 {
				groupVPC[req.GroupID] = aws.ToString(groups[0].VpcId)
			}
		}
		if gv := groupVPC[req.GroupID]; gv != "" && gv != vpcs[req.SubnetID] {
			pc.addf("subnet %s is in %s but the cluster's security group %s is in %s", req.SubnetID, vpcs[req.SubnetID], req.GroupID, gv)
		}
	}
	return zones
}

func uniqueValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

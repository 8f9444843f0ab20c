package ec2

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

var _ cloud.TypeDescriber = (*Provider)(nil)

// InstanceTypes describes the named types with DescribeInstanceTypes (one paginated request for
// all of them): their vCPUs and memory, which the scheduler hands out as each node's slots and
// memory.
func (p *Provider) InstanceTypes(ctx context.Context, names []string) (map[string]cloud.InstanceType, error) {
	out := map[string]cloud.InstanceType{}
	if len(names) == 0 {
		return out, nil
	}
	in := &ec2.DescribeInstanceTypesInput{}
	for _, n := range names {
		in.InstanceTypes = append(in.InstanceTypes, types.InstanceType(n))
	}
	pages := ec2.NewDescribeInstanceTypesPaginator(p.api, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe instance types %s: %w", strings.Join(names, ", "), err)
		}
		for _, t := range page.InstanceTypes {
			it := cloud.InstanceType{Name: string(t.InstanceType)}
			if t.VCpuInfo != nil {
				it.CPUs = int(aws.ToInt32(t.VCpuInfo.DefaultVCpus))
			}
			if t.MemoryInfo != nil {
				it.Memory = aws.ToInt64(t.MemoryInfo.SizeInMiB) << 20
			}
			out[it.Name] = it
		}
	}
	var missing []string
	for _, n := range names {
		if _, ok := out[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("EC2 does not describe instance types %s", strings.Join(missing, ", "))
	}
	return out, nil
}

package ec2

import "github.com/aws/aws-sdk-go-v2/service/ec2/types"

// KnownInstanceTypes lists every instance type of the AWS SDK this binary was built with, for
// the config's offline check of instance type names. Types newer than the SDK are missing, so
// a name outside the list is only worth a warning; EC2's offerings decide at start.
func KnownInstanceTypes() []string {
	vals := types.InstanceType("").Values()
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = string(v)
	}
	return out
}

package ec2

import (
	"errors"
	"fmt"

	"github.com/aws/smithy-go"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// EC2 error codes the provider decides on. EC2 reports "does not exist" with a per-resource
// code, and several of them are routine right after a create because of eventual consistency.
const (
	codeInstanceNotFound = "InvalidInstanceID.NotFound"
	codeGroupNotFound    = "InvalidGroup.NotFound"
	codeGroupDuplicate   = "InvalidGroup.Duplicate"
	codeGroupInUse       = "InvalidGroup.InUse"
	codeDependency       = "DependencyViolation"
	codeVolumeNotFound   = "InvalidVolume.NotFound"
	codeKeyPairNotFound  = "InvalidKeyPair.NotFound"
	codeKeyPairDuplicate = "InvalidKeyPair.Duplicate"
	codeAMINotFound      = "InvalidAMIID.NotFound"
	codeAMIMalformed     = "InvalidAMIID.Malformed"
	codeAMIUnavailable   = "InvalidAMIID.Unavailable"
	codeSubnetNotFound   = "InvalidSubnetID.NotFound"
	codeInstanceType     = "InvalidInstanceType"
	codeSpotNotFound     = "InvalidSpotInstanceRequestID.NotFound"
)

// apiCode returns the EC2 error code inside err, or "" when err is not an API error (network
// failure, cancelled context).
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// isCode reports whether err is an EC2 API error with one of the codes.
func isCode(err error, codes ...string) bool {
	c := apiCode(err)
	if c == "" {
		return false
	}
	for _, want := range codes {
		if c == want {
			return true
		}
	}
	return false
}

// notFound wraps cloud.ErrNotFound with what was missing, so callers test with errors.Is and
// users read a specific message.
func notFound(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), cloud.ErrNotFound)
}

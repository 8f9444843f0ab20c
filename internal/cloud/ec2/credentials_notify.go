package ec2

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// notifyingCredentials passes every credential the SDK's chain resolves (environment, shared
// files, SSO, an instance role, refreshed ones included) to notify once, so the caller can
// keep them out of every output and log, as it does for keys written in the config.
type notifyingCredentials struct {
	inner  aws.CredentialsProvider
	notify func(aws.Credentials)

	mu   sync.Mutex
	seen map[string]bool
}

// Retrieve returns the inner provider's credentials, reporting ones not seen before.
func (n *notifyingCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := n.inner.Retrieve(ctx)
	if err != nil {
		return c, err
	}
	key := c.AccessKeyID + "\x00" + c.SecretAccessKey + "\x00" + c.SessionToken
	n.mu.Lock()
	fresh := !n.seen[key]
	if fresh {
		if n.seen == nil {
			n.seen = map[string]bool{}
		}
		n.seen[key] = true
	}
	n.mu.Unlock()
	if fresh {
		n.notify(c)
	}
	return c, nil
}

package ec2

import (
	"context"
	"fmt"
	"maps"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// CallCounter counts EC2 API calls per operation name ("RunInstances", "DescribeInstances").
// Its purpose is to keep the provider honest about scale: launching 500 nodes must cost one
// RunInstances call and waiting must cost one DescribeInstances per polling round, and tests
// (and `--debug` output) can check that. It counts calls, not HTTP attempts: a throttled call
// that the SDK retries counts once. The zero value is ready to use and safe for concurrent use.
type CallCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

// APIOption returns a middleware installer for Options.APIOptions that counts every call made
// through the provider's client.
func (c *CallCounter) APIOption() func(*middleware.Stack) error {
	id := fmt.Sprintf("clusterctl.CallCounter.%p", c)
	return func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc(id,
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
				middleware.InitializeOutput, middleware.Metadata, error,
			) {
				c.add(awsmiddleware.GetOperationName(ctx))
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	}
}

func (c *CallCounter) add(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts = map[string]int{}
	}
	c.counts[op]++
}

// Count returns how many calls of operation op were made so far.
func (c *CallCounter) Count(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[op]
}

// Snapshot returns a copy of all counts, for logging or for diffing two points in time.
func (c *CallCounter) Snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.counts))
	maps.Copy(out, c.counts)
	return out
}

// Reset sets every count back to zero, so a test can measure one step on its own.
func (c *CallCounter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts = nil
}

package ec2

import (
	"context"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// withDefaultTimeout bounds ctx by cloud.DefaultWaitTimeout when the caller set no deadline, so
// no wait in this package can hang forever (StarCluster's waits could).
func withDefaultTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, cloud.DefaultWaitTimeout)
}

// poll runs check at once and then once per interval until it reports done or fails, or ctx
// ends (then it returns ctx's error). A ticker, not a sleep loop, keeps the rounds evenly spaced
// however long each check takes.
func poll(ctx context.Context, interval time.Duration, check func(context.Context) (bool, error)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		done, err := check(ctx)
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

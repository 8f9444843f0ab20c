package remote

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// DefaultConcurrency is the least bound FanOutLimit gives, and the bound where the open-file
// limit cannot be read.
const DefaultConcurrency = 32

// FanOutOpts adjust a fan-out.
type FanOutOpts struct {
	// Concurrency bounds the items in progress at once; 0 means FanOutLimit (every item at
	// once, as far as open files allow). A bound above FanOutLimit is lowered to it.
	Concurrency int
	// OnDone is called once per finished item, serialised, with the count finished so far,
	// so a status line can show "37/64 nodes". err is the item's error or nil.
	OnDone func(done, total int, name string, err error)
}

// HostError is one item's failure in a fan-out, prefixed with its host name. It unwraps to
// the underlying error, so errors.As finds a *RemoteError or *HostKeyMismatchError through
// the joined error FanOut returns.
type HostError struct {
	Host string
	Err  error
}

// Error prefixes the host name.
func (e *HostError) Error() string { return e.Host + ": " + e.Err.Error() }

// Unwrap returns the host's own error.
func (e *HostError) Unwrap() error { return e.Err }

// FanOut runs fn for every item with at most opts.Concurrency running at once, and returns
// all failures joined (errors.Join) in item order, each as a *HostError named by name(item).
// Every item runs even when others fail, because nodes are independent and the user wants
// the full list of broken ones. When ctx ends no new item starts, and the returned error
// also says how many items never ran.
func FanOut[T any](ctx context.Context, items []T, name func(T) string, opts FanOutOpts,
	fn func(context.Context, T) error) error {
	limit := FanOutLimit()
	if opts.Concurrency > 0 {
		limit = min(limit, opts.Concurrency)
	}
	limit = max(min(limit, len(items)), 1)
	errs := make([]error, len(items))
	started := make([]bool, len(items))
	next := make(chan int)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
	)
	for range limit {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				err := fn(ctx, items[i])
				if err != nil {
					err = &HostError{Host: name(items[i]), Err: err}
					errs[i] = err
				}
				mu.Lock()
				done++
				if opts.OnDone != nil {
					opts.OnDone(done, len(items), name(items[i]), err)
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for i := range items {
		if ctx.Err() != nil {
			break
		}
		select {
		case next <- i:
			started[i] = true
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()

	notStarted := 0
	for _, s := range started {
		if !s {
			notStarted++
		}
	}
	if notStarted > 0 {
		errs = append(errs, fmt.Errorf("%d of %d items not started: %w", notStarted, len(items), ctx.Err()))
	}
	return errors.Join(errs...)
}

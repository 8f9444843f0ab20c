package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Drain defaults: removenode waits this long for running jobs before it gives up, and checks
// this often.
const (
	DefaultDrainTimeout = 30 * time.Minute
	DefaultDrainPoll    = 3 * time.Second
)

// DrainOptions say how a removal waits for the jobs running on the hosts it removes.
type DrainOptions struct {
	// Timeout bounds the wait; 0 means DefaultDrainTimeout.
	Timeout time.Duration
	// Poll paces the checks; 0 means DefaultDrainPoll.
	Poll time.Duration
	// Force skips the wait: the hosts are removed at once and the jobs still running there
	// are ended.
	Force bool
}

func (o DrainOptions) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultDrainTimeout
}

func (o DrainOptions) poll() time.Duration {
	if o.Poll > 0 {
		return o.Poll
	}
	return DefaultDrainPoll
}

// BusyError is a drain that gave up: hosts still ran jobs when the wait ended. The hosts are
// back in service.
type BusyError struct {
	Scheduler string
	// Jobs counts the running jobs per busy host.
	Jobs   map[string]int
	Waited time.Duration
}

func (e *BusyError) Error() string {
	hosts := make([]string, 0, len(e.Jobs))
	for h := range e.Jobs {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	parts := make([]string, len(hosts))
	for i, h := range hosts {
		parts[i] = fmt.Sprintf("%s runs %s", h, plural(e.Jobs[h], "job"))
	}
	return fmt.Sprintf("%s: %s after waiting %s; nothing was removed and the hosts take jobs again "+
		"(wait longer with a longer drain timeout, or end the jobs with --force)", e.Scheduler, strings.Join(parts, ", "), e.Waited)
}

// DrainAndWait prepares hosts for removal: the scheduler stops starting jobs there, then it
// waits until no job runs on any of them and checks once more a poll later (a job dispatched
// just before the drain took effect shows up by then). When the wait times out, ctx ends or a
// check fails, the hosts are resumed, so a removal that did not happen leaves the cluster as it
// was. Nodes that are not running are skipped: nothing can finish there.
func DrainAndWait(ctx context.Context, s Scheduler, c Cluster, nodes []Node, o DrainOptions) error {
	var hosts []string
	for _, n := range nodes {
		if n.Running {
			hosts = append(hosts, n.Name)
		}
	}
	if len(hosts) == 0 || o.Force {
		return nil
	}
	if err := c.Step(ctx, fmt.Sprintf("%s: drain %s", s.Name(), HostList(hosts)), func(ctx context.Context) error {
		return s.Drain(ctx, c, hosts)
	}); err != nil {
		return err
	}
	err := c.Step(ctx, fmt.Sprintf("%s: wait for running jobs on %s (up to %s)", s.Name(), HostList(hosts), o.timeout()), func(ctx context.Context) error {
		return waitIdle(ctx, s, c, hosts, o)
	})
	if err == nil {
		return nil
	}
	resumeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if rerr := s.Resume(resumeCtx, c, hosts); rerr != nil {
		return errors.Join(err, fmt.Errorf("%s: put %s back in service: %w", s.Name(), HostList(hosts), rerr))
	}
	return err
}

// waitIdle polls until hosts run nothing on two checks in a row.
func waitIdle(ctx context.Context, s Scheduler, c Cluster, hosts []string, o DrainOptions) error {
	start := time.Now()
	deadline := start.Add(o.timeout())
	idleOnce := false
	for {
		jobs, err := s.Running(ctx, c, hosts)
		if err != nil {
			return err
		}
		busy := map[string]int{}
		for _, h := range hosts {
			if jobs[h] > 0 {
				busy[h] = jobs[h]
			}
		}
		switch {
		case len(busy) == 0 && idleOnce:
			return nil
		case len(busy) == 0:
			idleOnce = true
		default:
			idleOnce = false
			if time.Now().After(deadline) {
				return &BusyError{Scheduler: s.Name(), Jobs: busy, Waited: time.Since(start).Round(time.Second)}
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(o.poll()):
		}
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

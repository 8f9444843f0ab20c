package main

import (
	"fmt"
	"sync"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud/ec2"
)

// retryReportEvery spaces the status lines about EC2 backing off: the first shows at once,
// later ones at most this often, with how many backoffs happened since.
const retryReportEvery = 10 * time.Second

// retryReporter turns EC2's backoffs into status lines, so a command waiting out throttling
// says so instead of looking stuck; every backoff is in the debug log.
type retryReporter struct {
	a     *app
	mu    sync.Mutex
	last  time.Time
	since int
}

func (r *retryReporter) report(ev ec2.RetryEvent) {
	r.a.logger.Debug("EC2 call backing off", "code", ev.Code, "attempt", ev.Attempt, "delay", ev.Delay.String(), "error", fmt.Sprint(ev.Err))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.since++
	if !r.last.IsZero() && time.Since(r.last) < retryReportEvery {
		return
	}
	msg := fmt.Sprintf("EC2 is throttling or failing requests (%s): backing off %s before attempt %d of %d",
		ev.Code, ev.Delay.Round(10*time.Millisecond), ev.Attempt+1, ev.MaxAttempts)
	if !r.last.IsZero() {
		msg += fmt.Sprintf(" (%d backoffs in the last %s)", r.since, time.Since(r.last).Round(time.Second))
	}
	r.last, r.since = time.Now(), 0
	r.a.streams.Status().Warnf("%s", msg)
}

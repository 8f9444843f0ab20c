package balancer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/scheduler"
)

// fakeClock is simulated time: After moves time forward at once, so the loop runs through
// hours of simulated balancing in milliseconds, deterministically.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// simJob is one job of the simulated Grid Engine.
type simJob struct {
	id        string
	submitted time.Time
	started   time.Time // zero while queued
	host      string
	runs      time.Duration
}

// sim is a scripted cluster with a scheduler: it implements StatsSource, NodeLister and
// Actuator, runs jobs first come first served on free slots as simulated time passes, and
// records every action the balancer takes.
type sim struct {
	t        *testing.T
	clock    *fakeClock
	slots    int // per host
	nodes    []Node
	jobs     []*simJob
	finished []scheduler.FinishedJob
	actions  []string
	calls    int
	// failStats makes these Stats calls (1-based) fail; cancelAt cancels the loop's context
	// on that call.
	failStats map[int]bool
	cancelAt  int
	cancel    context.CancelFunc
	simulated time.Time
}

func newSim(t *testing.T, slots int) *sim {
	c := &fakeClock{now: base()}
	return &sim{t: t, clock: c, slots: slots, nodes: cluster(0), simulated: base()}
}

// submit queues n jobs of duration d now.
func (s *sim) submit(n int, d time.Duration) {
	for i := 0; i < n; i++ {
		s.jobs = append(s.jobs, &simJob{id: fmt.Sprint(len(s.jobs) + len(s.finished) + 1), submitted: s.clock.now, runs: d})
	}
}

// advance runs the scheduler from the last simulated instant to now: jobs end at their exact
// end times and free slots are filled at once, the way Grid Engine's scheduler would.
func (s *sim) advance(now time.Time) {
	for {
		s.dispatch(s.simulated)
		var next *simJob
		for _, j := range s.jobs {
			if !j.started.IsZero() && (next == nil || j.started.Add(j.runs).Before(next.started.Add(next.runs))) {
				next = j
			}
		}
		if next == nil || next.started.Add(next.runs).After(now) {
			break
		}
		s.simulated = next.started.Add(next.runs)
		s.finished = append(s.finished, scheduler.FinishedJob{ID: next.id, Submitted: next.submitted,
			Started: next.started, Ended: s.simulated})
		s.jobs = slices.DeleteFunc(s.jobs, func(j *simJob) bool { return j == next })
	}
	s.simulated = now
	s.dispatch(now)
}

// dispatch starts queued jobs on free slots, hosts in alias order.
func (s *sim) dispatch(at time.Time) {
	for _, n := range s.nodes {
		for s.used(n.Alias) < s.slots {
			i := slices.IndexFunc(s.jobs, func(j *simJob) bool { return j.started.IsZero() })
			if i < 0 {
				return
			}
			s.jobs[i].started, s.jobs[i].host = at, n.Alias
		}
	}
}

func (s *sim) used(host string) int {
	n := 0
	for _, j := range s.jobs {
		if j.host == host && !j.started.IsZero() {
			n++
		}
	}
	return n
}

func (s *sim) Stats(ctx context.Context) (scheduler.Stats, error) {
	s.calls++
	if s.calls == s.cancelAt {
		s.cancel()
		return scheduler.Stats{}, ctx.Err()
	}
	if s.failStats[s.calls] {
		return scheduler.Stats{}, errors.New("ssh master: connection reset")
	}
	now := s.clock.Now()
	s.advance(now)
	st := scheduler.Stats{Time: now, Finished: slices.Clone(s.finished)}
	for _, n := range s.nodes {
		u := s.used(n.Alias)
		st.Hosts = append(st.Hosts, scheduler.Host{Name: n.Alias, Slots: s.slots, UsedSlots: u,
			Load: float64(u), Memory: 8 << 30})
	}
	for _, j := range s.jobs {
		job := scheduler.Job{ID: j.id, Slots: 1, Submitted: j.submitted, State: scheduler.Queued}
		if !j.started.IsZero() {
			job.State, job.Host, job.Started = scheduler.Running, j.host, j.started
		}
		st.Jobs = append(st.Jobs, job)
	}
	return st, nil
}

func (s *sim) Nodes(context.Context) ([]Node, error) { return slices.Clone(s.nodes), nil }

func (s *sim) AddNodes(_ context.Context, k int, _ float64) error {
	s.actions = append(s.actions, fmt.Sprintf("%s add %d", s.at(), k))
	highest := 0
	for _, n := range s.nodes {
		highest = max(highest, aliasNumber(n.Alias))
	}
	for i := 1; i <= k; i++ {
		s.nodes = append(s.nodes, Node{Alias: fmt.Sprintf("node%03d", highest+i), LaunchTime: s.clock.now})
	}
	return nil
}

func (s *sim) RemoveNodes(_ context.Context, aliases []string) error {
	s.actions = append(s.actions, fmt.Sprintf("%s remove %s", s.at(), strings.Join(aliases, " ")))
	for _, a := range aliases {
		if a == "master" || s.used(a) > 0 {
			s.t.Errorf("removing %s, the master or a busy node", a)
		}
	}
	s.nodes = slices.DeleteFunc(s.nodes, func(n Node) bool { return slices.Contains(aliases, n.Alias) })
	return nil
}

func (s *sim) RemoveFromScheduler(_ context.Context, aliases []string) error {
	s.actions = append(s.actions, fmt.Sprintf("%s forget %s", s.at(), strings.Join(aliases, " ")))
	return nil
}

// FinishNodes has nothing to finish: the simulated adds never fail.
func (s *sim) FinishNodes(context.Context) (string, error) { return "", nil }

func (s *sim) Terminate(context.Context) error {
	s.actions = append(s.actions, s.at()+" terminate")
	s.nodes = nil
	return nil
}

// at is the simulated time as minutes since the start, for readable action logs.
func (s *sim) at() string { return fmt.Sprintf("+%dm", int(s.clock.now.Sub(base()).Minutes())) }

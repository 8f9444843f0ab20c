package scheduler

import (
	"sort"
	"time"
)

// Host is one execution host as the scheduler sees it.
type Host struct {
	// Name is the host name, which is the node's alias.
	Name string `json:"name"`
	// Slots is how many job slots the host offers; UsedSlots how many are taken.
	Slots     int `json:"slots"`
	UsedSlots int `json:"used_slots"`
	// Load is the host's load average (normalized per CPU when the scheduler says so).
	Load float64 `json:"load"`
	// Memory is the host's mem_requested capacity (bytes), 0 when unknown.
	Memory int64 `json:"memory"`
	// Disabled hosts take no new jobs (drained before removal).
	Disabled bool `json:"disabled,omitempty"`
	// Unreachable hosts stopped reporting to the scheduler (e.g. a vanished spot node).
	Unreachable bool `json:"unreachable,omitempty"`
}

// JobState is whether a job (task) runs or waits.
type JobState string

// Job states the balancer distinguishes.
const (
	Running JobState = "running"
	Queued  JobState = "queued"
	// Held jobs wait for a user or an error to be cleared (hqw, Eqw): more nodes would not
	// start them, so they never drive growth.
	Held JobState = "held"
)

// Job is one job, or one task of an array job: StarCluster counted an array of 20 tasks as 20
// and so does clusterctl.
type Job struct {
	ID    string   `json:"id"`
	Task  string   `json:"task,omitempty"`
	Name  string   `json:"name"`
	Owner string   `json:"owner"`
	State JobState `json:"state"`
	// Slots is how many slots the job (task) needs or holds.
	Slots int `json:"slots"`
	// Host runs the job; empty while queued.
	Host string `json:"host,omitempty"`
	// Submitted is when it was queued; Started when it began running.
	Submitted time.Time `json:"submitted"`
	Started   time.Time `json:"started,omitempty"`
	// Memory is the mem_requested per slot (bytes), 0 when none was asked for.
	Memory int64 `json:"memory,omitempty"`
}

// Stats is one snapshot of a scheduler, whichever it is: the hosts, their slots and load, and
// the jobs (array tasks counted one by one). Each scheduler produces it; the balancer decides
// from it.
type Stats struct {
	Time  time.Time `json:"time"`
	Hosts []Host    `json:"hosts"`
	Jobs  []Job     `json:"jobs"`
	// Finished are jobs that ended recently (from accounting), for average duration and wait.
	Finished []FinishedJob `json:"finished,omitempty"`
}

// FinishedJob is an ended job's timing, from the scheduler's accounting.
type FinishedJob struct {
	ID        string    `json:"id"`
	Submitted time.Time `json:"submitted"`
	Started   time.Time `json:"started"`
	Ended     time.Time `json:"ended"`
}

// Queued returns the waiting jobs, oldest first.
func (s Stats) Queued() []Job {
	var out []Job
	for _, j := range s.Jobs {
		if j.State == Queued {
			out = append(out, j)
		}
	}
	sort.SliceStable(out, func(i, k int) bool { return out[i].Submitted.Before(out[k].Submitted) })
	return out
}

// Running returns the running jobs.
func (s Stats) Running() []Job {
	var out []Job
	for _, j := range s.Jobs {
		if j.State == Running {
			out = append(out, j)
		}
	}
	return out
}

// QueuedSlots is the number of slots the waiting jobs need.
func (s Stats) QueuedSlots() int {
	n := 0
	for _, j := range s.Queued() {
		n += max(j.Slots, 1)
	}
	return n
}

// TotalSlots is the slots offered by usable (enabled, reachable) hosts.
func (s Stats) TotalSlots() int {
	n := 0
	for _, h := range s.Hosts {
		if !h.Disabled && !h.Unreachable {
			n += h.Slots
		}
	}
	return n
}

// UsedSlots is the slots taken on all hosts.
func (s Stats) UsedSlots() int {
	n := 0
	for _, h := range s.Hosts {
		n += h.UsedSlots
	}
	return n
}

// OldestWait is how long the oldest queued job has waited at s.Time, 0 with an empty queue or
// an unknown time.
func (s Stats) OldestWait() time.Duration {
	q := s.Queued()
	if len(q) == 0 || q[0].Submitted.IsZero() || s.Time.IsZero() {
		return 0
	}
	return max(s.Time.Sub(q[0].Submitted), 0)
}

// FreeSlots is the unused slots of usable (enabled, reachable) hosts.
func (s Stats) FreeSlots() int {
	n := 0
	for _, h := range s.Hosts {
		if !h.Disabled && !h.Unreachable {
			n += max(h.Slots-h.UsedSlots, 0)
		}
	}
	return n
}

// Busy reports whether a host runs any job.
func (s Stats) Busy(host string) bool {
	for _, j := range s.Jobs {
		if j.State == Running && j.Host == host {
			return true
		}
	}
	return false
}

// AverageLoad is the mean load of the usable hosts.
func (s Stats) AverageLoad() float64 {
	sum, n := 0.0, 0
	for _, h := range s.Hosts {
		if !h.Unreachable {
			sum += h.Load
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

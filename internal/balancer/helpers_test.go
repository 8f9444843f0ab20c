package balancer

import (
	"fmt"
	"time"

	"github.com/clusterctl/clusterctl/internal/scheduler"
)

// base is the fixed start of every test's simulated time.
func base() time.Time { return time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC) }

// cluster returns the master plus workers node001..node00n.
func cluster(workers int) []Node {
	out := []Node{{Alias: "master", Master: true, LaunchTime: base().Add(-time.Hour)}}
	for i := 1; i <= workers; i++ {
		out = append(out, Node{Alias: fmt.Sprintf("node%03d", i), LaunchTime: base().Add(-time.Hour)})
	}
	return out
}

// fullHosts returns hosts with all their slots taken and one running job per slot, so the
// snapshot is consistent (Busy, UsedSlots) the way Grid Engine reports it.
func fullHosts(slots map[string]int) ([]scheduler.Host, []scheduler.Job) {
	var hosts []scheduler.Host
	var jobs []scheduler.Job
	for _, name := range sortedKeys(slots) {
		n := slots[name]
		hosts = append(hosts, scheduler.Host{Name: name, Slots: n, UsedSlots: n, Load: 1, Memory: 16 << 30})
		for i := 0; i < n; i++ {
			jobs = append(jobs, scheduler.Job{ID: fmt.Sprintf("r-%s-%d", name, i), State: scheduler.Running,
				Slots: 1, Host: name, Submitted: base().Add(-time.Hour), Started: base().Add(-time.Hour)})
		}
	}
	return hosts, jobs
}

// idleHosts returns hosts with no job.
func idleHosts(slots map[string]int) []scheduler.Host {
	var hosts []scheduler.Host
	for _, name := range sortedKeys(slots) {
		hosts = append(hosts, scheduler.Host{Name: name, Slots: slots[name], Memory: 16 << 30})
	}
	return hosts
}

// queuedJobs returns n single-slot jobs submitted wait before base().
func queuedJobs(prefix string, n int, wait time.Duration) []scheduler.Job {
	out := make([]scheduler.Job, n)
	for i := range out {
		out[i] = scheduler.Job{ID: fmt.Sprintf("%s%d", prefix, i), State: scheduler.Queued, Slots: 1,
			Submitted: base().Add(-wait)}
	}
	return out
}

// arrayJob returns the tasks of `qsub -t 1-n` as Grid Engine stats expand them.
func arrayJob(id string, n int, wait time.Duration) []scheduler.Job {
	out := make([]scheduler.Job, n)
	for i := range out {
		out[i] = scheduler.Job{ID: id, Task: fmt.Sprint(i + 1), State: scheduler.Queued, Slots: 1,
			Submitted: base().Add(-wait)}
	}
	return out
}

// idleSince marks aliases idle for the given durations before base().
func idleSince(idle map[string]time.Duration) map[string]time.Time {
	out := map[string]time.Time{}
	for a, d := range idle {
		out[a] = base().Add(-d)
	}
	return out
}

func sortedKeys(m map[string]int) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	newestFirst(keys)
	for i, j := 0, len(keys)-1; i < j; i, j = i+1, j-1 {
		keys[i], keys[j] = keys[j], keys[i]
	}
	return keys
}

// concat joins job lists.
func concat(lists ...[]scheduler.Job) []scheduler.Job {
	var out []scheduler.Job
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

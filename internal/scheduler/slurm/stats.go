package slurm

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/scheduler"
)

// jobcompTail bounds how many completion records one look reads: the file only grows.
const jobcompTail = 5000

// StatsScript prints everything Stats needs in one SSH round trip on the master: the master's
// clock and zone (Slurm prints local times without a zone), the nodes, the jobs (array tasks
// one per line), and the end of the job completion file.
func StatsScript() string {
	return fmt.Sprintf(`set -e
%[3]s
echo '--- nodes'
scontrol -o show nodes
echo '--- jobs'
squeue -h -a -r -t PENDING,RUNNING,SUSPENDED,COMPLETING,CONFIGURING -o '%%i|%%T|%%C|%%m|%%B|%%V|%%S|%%r|%%u|%%j'
echo '--- jobcomp'
if [ -f %[1]s ]; then tail -n %[2]d %[1]s; fi`, jobcompPath, jobcompTail, scheduler.ClockLine)
}

// ParseStats reads the output of StatsScript; finished jobs are those that ended at or after
// since.
func ParseStats(out string, since time.Time) (scheduler.Stats, error) {
	var st scheduler.Stats
	snap, err := scheduler.ParseSnapshot(out)
	if err != nil {
		return st, fmt.Errorf("read Slurm state: %w", err)
	}
	st.Time = snap.Time
	for _, n := range parseNodes(snap.Sections["nodes"]) {
		st.Hosts = append(st.Hosts, n.host())
	}
	if st.Jobs, err = parseJobs(snap.Sections["jobs"], snap.Zone); err != nil {
		return st, err
	}
	st.Finished = parseJobcomp(snap.Sections["jobcomp"], snap.Zone, since)
	return st, nil
}

// node is one line of `scontrol -o show nodes`.
type node struct {
	name        string
	cpus, alloc int
	load        float64
	memoryMB    int64
	state       string
}

// host is the node as the balancer sees it. Only a node slurmctld set DOWN (or FAIL) is
// unreachable: NOT_RESPONDING alone is also what slurmctld shows for a moment after a node is
// resumed, until its next ping, and a healthy node must not look vanished then. A machine that
// is gone is DOWN after SlurmdTimeout, and the provider says so sooner.
func (n node) host() scheduler.Host {
	return scheduler.Host{Name: n.name, Slots: n.cpus, UsedSlots: n.alloc, Load: n.load, Memory: n.memoryMB << 20,
		Disabled:    strings.Contains(n.state, "DRAIN"),
		Unreachable: strings.Contains(n.state, "DOWN") || strings.Contains(n.state, "FAIL")}
}

func parseNodes(text string) []node {
	var out []node
	for _, line := range strings.Split(text, "\n") {
		kv := keyValues(line)
		if kv["NodeName"] == "" {
			continue
		}
		n := node{name: kv["NodeName"], state: kv["State"]}
		n.cpus, _ = strconv.Atoi(kv["CPUTot"])
		n.alloc, _ = strconv.Atoi(kv["CPUAlloc"])
		n.load, _ = strconv.ParseFloat(kv["CPULoad"], 64)
		n.memoryMB, _ = strconv.ParseInt(kv["RealMemory"], 10, 64)
		out = append(out, n)
	}
	return out
}

// keyRE is where a new key=value field of Slurm's one-line output starts; a value may hold
// spaces (a job name, a directory), so a word that does not look like a key continues the
// value before it.
var keyRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_/:]*=`)

// keyValues splits Slurm's "Key=Value Key=Value" lines.
func keyValues(line string) map[string]string {
	out := map[string]string{}
	last := ""
	for _, word := range strings.Fields(line) {
		if keyRE.MatchString(word) {
			k, v, _ := strings.Cut(word, "=")
			out[k], last = v, k
		} else if last != "" {
			out[last] += " " + word
		}
	}
	return out
}

// parseJobs reads squeue's lines: id|state|cpus|memory|batch host|submitted|started|reason|
// user|name, the name last since it may hold the separator.
func parseJobs(text string, loc *time.Location) ([]scheduler.Job, error) {
	var jobs []scheduler.Job
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.SplitN(line, "|", 10)
		if len(f) != 10 {
			return nil, fmt.Errorf("read squeue output: unexpected line %q", line)
		}
		id, task, _ := strings.Cut(f[0], "_")
		j := scheduler.Job{ID: id, Task: task, State: jobState(f[1], f[7]), Owner: f[8], Name: f[9],
			Submitted: scheduler.ParseLocalTime(f[5], loc)}
		j.Slots, _ = strconv.Atoi(f[2])
		j.Slots = max(j.Slots, 1)
		if mem, err := parseSize(f[3]); err == nil {
			j.Memory = mem
		}
		if j.State == scheduler.Running {
			j.Host = f[4]
			j.Started = scheduler.ParseLocalTime(f[6], loc)
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// jobState maps Slurm's states: running (and completing, suspended), held (by a user, an
// administrator, or a dependency that can never be met: more nodes would not start them), else
// queued.
func jobState(state, reason string) scheduler.JobState {
	switch state {
	case "RUNNING", "COMPLETING", "CONFIGURING", "SUSPENDED":
		return scheduler.Running
	}
	if strings.HasPrefix(reason, "JobHeld") || reason == "DependencyNeverSatisfied" {
		return scheduler.Held
	}
	return scheduler.Queued
}

// parseSize reads Slurm's memory sizes: megabytes, or with K, M, G, T (powers of 1024).
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1 << 20)
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'K':
			mult, s = 1<<10, s[:n-1]
		case 'M':
			s = s[:n-1]
		case 'G':
			mult, s = 1<<30, s[:n-1]
		case 'T':
			mult, s = 1<<40, s[:n-1]
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("memory size %q: %w", s, err)
	}
	return int64(v * float64(mult)), nil
}

// parseJobcomp reads jobcomp/filetxt records, one job (or array task) per line, keeping those
// that ended at or after since.
func parseJobcomp(text string, loc *time.Location, since time.Time) []scheduler.FinishedJob {
	var out []scheduler.FinishedJob
	for _, line := range strings.Split(text, "\n") {
		kv := keyValues(line)
		if kv["JobId"] == "" {
			continue
		}
		f := scheduler.FinishedJob{ID: kv["JobId"], Submitted: scheduler.ParseLocalTime(kv["SubmitTime"], loc),
			Started: scheduler.ParseLocalTime(kv["StartTime"], loc), Ended: scheduler.ParseLocalTime(kv["EndTime"], loc)}
		if f.Ended.IsZero() || f.Ended.Before(since) {
			continue
		}
		out = append(out, f)
	}
	return out
}

package sge

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/scheduler"
)

// StatsScript prints everything Stats needs in one SSH round trip on the master: the master's
// clock and zone (Grid Engine prints local times without a zone), qstat and qhost as XML (with
// what is left of each host's mem_requested), and the accounting records since lookback.
func StatsScript(since time.Time) string {
	return fmt.Sprintf(`set -e
%s
%s
echo '--- qstat'
qstat -u '*' -r -xml
echo '--- qhost'
qhost -q -F mem_requested -xml
echo '--- qacct'
# The accounting file appears once the first job ended.
if [ -f $SGE_ROOT/$SGE_CELL/common/accounting ]; then TZ=UTC qacct -j -b %s; fi`, envLine, scheduler.ClockLine, since.UTC().Format("200601021504"))
}

// ParseStats reads the output of StatsScript.
func ParseStats(out string) (scheduler.Stats, error) {
	var st scheduler.Stats
	snap, err := scheduler.ParseSnapshot(out)
	if err != nil {
		return st, fmt.Errorf("read Grid Engine state: %w", err)
	}
	st.Time = snap.Time
	if st.Jobs, err = parseQstat(snap.Sections["qstat"], snap.Zone); err != nil {
		return st, err
	}
	if st.Hosts, err = parseQhost(snap.Sections["qhost"]); err != nil {
		return st, err
	}
	// A host's memory is its mem_requested capacity (from its instance type), not what its
	// /proc reports: what is left of it, plus what its running jobs hold.
	held := map[string]int64{}
	for _, j := range st.Running() {
		held[j.Host] += j.Memory * int64(max(j.Slots, 1))
	}
	for i, h := range st.Hosts {
		if h.Memory > 0 {
			st.Hosts[i].Memory += held[h.Name]
		}
	}
	st.Finished = parseQacct(snap.Sections["qacct"])
	return st, nil
}

// qstatXML is the part of `qstat -u '*' -r -xml` Stats reads.
type qstatXML struct {
	Running []jobXML `xml:"queue_info>job_list"`
	Pending []jobXML `xml:"job_info>job_list"`
}

type jobXML struct {
	Number    string `xml:"JB_job_number"`
	Name      string `xml:"JB_name"`
	Owner     string `xml:"JB_owner"`
	State     string `xml:"state"`
	Submitted string `xml:"JB_submission_time"`
	Started   string `xml:"JAT_start_time"`
	Queue     string `xml:"queue_name"`
	Slots     int    `xml:"slots"`
	Tasks     string `xml:"tasks"`
	Requests  []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:",chardata"`
	} `xml:"hard_request"`
}

func parseQstat(text string, loc *time.Location) ([]scheduler.Job, error) {
	var q qstatXML
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	if err := xml.Unmarshal([]byte(text), &q); err != nil {
		return nil, fmt.Errorf("read qstat output: %w", err)
	}
	var jobs []scheduler.Job
	for _, j := range append(q.Running, q.Pending...) {
		base := scheduler.Job{ID: j.Number, Name: j.Name, Owner: j.Owner, Slots: max(j.Slots, 1), State: jobState(j.State),
			Submitted: scheduler.ParseLocalTime(j.Submitted, loc), Started: scheduler.ParseLocalTime(j.Started, loc)}
		if _, host, ok := strings.Cut(j.Queue, "@"); ok {
			base.Host = host
		}
		for _, r := range j.Requests {
			if r.Name == "mem_requested" {
				base.Memory, _ = ParseSize(r.Value)
			}
		}
		tasks, err := expandTasks(j.Tasks)
		if err != nil {
			return nil, fmt.Errorf("job %s: %w", j.Number, err)
		}
		if len(tasks) == 0 {
			jobs = append(jobs, base)
			continue
		}
		for _, t := range tasks {
			job := base
			job.Task = t
			jobs = append(jobs, job)
		}
	}
	return jobs, nil
}

// jobState maps Grid Engine's state letters: running (r, t, R), held or in error (h, E), else
// queued.
func jobState(s string) scheduler.JobState {
	switch {
	case strings.ContainsAny(s, "hE"):
		return scheduler.Held
	case strings.ContainsAny(s, "rtR"):
		return scheduler.Running
	}
	return scheduler.Queued
}

// expandTasks turns an array job's task ranges ("1-5:1", "3,7-9:2") into task ids, so an
// array of 20 tasks counts as 20 jobs.
func expandTasks(spec string) ([]string, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, nil
	}
	var out []string
	for _, part := range strings.Split(spec, ",") {
		rng, stepText, _ := strings.Cut(part, ":")
		from, to, isRange := strings.Cut(rng, "-")
		a, err := strconv.Atoi(from)
		if err != nil {
			return nil, fmt.Errorf("task range %q", spec)
		}
		b, step := a, 1
		if isRange {
			if b, err = strconv.Atoi(to); err != nil {
				return nil, fmt.Errorf("task range %q", spec)
			}
		}
		if stepText != "" {
			if step, err = strconv.Atoi(stepText); err != nil || step < 1 {
				return nil, fmt.Errorf("task range %q", spec)
			}
		}
		if b-a > 1_000_000 {
			return nil, fmt.Errorf("task range %q is too large", spec)
		}
		for i := a; i <= b; i += step {
			out = append(out, strconv.Itoa(i))
		}
	}
	return out, nil
}

// ParseSize reads Grid Engine memory values: plain bytes, or with K, M, G, T (powers of 1024).
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := 1.0
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k', 'K':
			mult = 1 << 10
		case 'm', 'M':
			mult = 1 << 20
		case 'g', 'G':
			mult = 1 << 30
		case 't', 'T':
			mult = 1 << 40
		}
		if mult != 1 {
			s = s[:n-1]
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("memory size %q: %w", s, err)
	}
	return int64(v * mult), nil
}

// qhostXML is the part of `qhost -q -xml` Stats reads.
type qhostXML struct {
	Hosts []struct {
		Name   string `xml:"name,attr"`
		Values []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:",chardata"`
		} `xml:"hostvalue"`
		Resources []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:",chardata"`
		} `xml:"resourcevalue"`
		Queues []struct {
			Name   string `xml:"name,attr"`
			Values []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:",chardata"`
			} `xml:"queuevalue"`
		} `xml:"queue"`
	} `xml:"host"`
}

func parseQhost(text string) ([]scheduler.Host, error) {
	var q qhostXML
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	if err := xml.Unmarshal([]byte(text), &q); err != nil {
		return nil, fmt.Errorf("read qhost output: %w", err)
	}
	var hosts []scheduler.Host
	for _, h := range q.Hosts {
		if h.Name == "global" {
			continue
		}
		host := scheduler.Host{Name: h.Name}
		for _, v := range h.Values {
			switch v.Name {
			case "load_avg":
				if v.Value == "-" {
					host.Unreachable = true
				}
				host.Load, _ = strconv.ParseFloat(v.Value, 64)
			}
		}
		for _, r := range h.Resources {
			if r.Name == "mem_requested" {
				host.Memory, _ = ParseSize(r.Value)
			}
		}
		for _, qu := range h.Queues {
			if qu.Name != "all.q" {
				continue
			}
			for _, v := range qu.Values {
				switch v.Name {
				case "slots":
					host.Slots, _ = strconv.Atoi(v.Value)
				case "slots_used":
					host.UsedSlots, _ = strconv.Atoi(v.Value)
				case "state_string":
					host.Disabled = strings.Contains(v.Value, "d")
					host.Unreachable = host.Unreachable || strings.ContainsAny(v.Value, "uo")
				}
			}
		}
		hosts = append(hosts, host)
	}
	return hosts, nil
}

// parseQacct reads `qacct -j` records (printed in UTC) into finished jobs.
func parseQacct(text string) []scheduler.FinishedJob {
	var out []scheduler.FinishedJob
	var cur scheduler.FinishedJob
	flush := func() {
		if cur.ID != "" && !cur.Ended.IsZero() {
			out = append(out, cur)
		}
		cur = scheduler.FinishedJob{}
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "=====") {
			flush()
			continue
		}
		key, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		at := func() time.Time { t, _ := time.Parse("Mon Jan _2 15:04:05 2006", val); return t }
		switch key {
		case "jobnumber":
			cur.ID = val
		case "qsub_time":
			cur.Submitted = at()
		case "start_time":
			cur.Started = at()
		case "end_time":
			cur.Ended = at()
		}
	}
	flush()
	return out
}

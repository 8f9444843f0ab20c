package balancer

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// Row is one line of a load table: from Threshold on (up to the next row's threshold) the
// cluster keeps between Min and Max workers. Workers exclude the master.
type Row struct {
	Threshold float64
	Min, Max  int
}

// LoadTable maps a load metric to a range of workers, GBrowse's render-farm rule: rows with
// strictly increasing thresholds; below the first threshold no workers are wanted; above the
// last, the last row applies. A range rather than a single number is what keeps the farm from
// flapping when the metric hovers around a threshold.
type LoadTable []Row

// ReadLoadTable reads and validates a load table file (see ParseLoadTable).
func ReadLoadTable(path string) (LoadTable, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load table: %w", err)
	}
	defer f.Close()
	t, err := ParseLoadTable(f)
	if err != nil {
		return nil, fmt.Errorf("load table %s: %w", path, err)
	}
	return t, nil
}

// ParseLoadTable reads rows of `threshold min max`, whitespace separated; `#` starts a comment
// and blank lines are skipped. Every bad line is reported with its number, all at once.
func ParseLoadTable(r io.Reader) (LoadTable, error) {
	var t LoadTable
	var errs []error
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		row, err := parseRow(fields)
		if err == nil && len(t) > 0 && row.Threshold <= t[len(t)-1].Threshold {
			err = fmt.Errorf("threshold %g is not greater than the previous row's %g",
				row.Threshold, t[len(t)-1].Threshold)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", line, err))
			continue
		}
		t = append(t, row)
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("line %d: %w", line+1, err))
	}
	if len(errs) == 0 && len(t) == 0 {
		errs = append(errs, errors.New("no rows (want lines of `threshold min max`)"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

// parseRow checks one row's three fields.
func parseRow(fields []string) (Row, error) {
	if len(fields) != 3 {
		return Row{}, fmt.Errorf("want 3 fields `threshold min max`, got %d", len(fields))
	}
	th, err := strconv.ParseFloat(fields[0], 64)
	if err != nil || math.IsNaN(th) || math.IsInf(th, 0) {
		return Row{}, fmt.Errorf("threshold %q is not a number", fields[0])
	}
	var n [2]int
	for i, name := range []string{"min", "max"} {
		v, err := strconv.Atoi(fields[i+1])
		if err != nil || v < 0 {
			return Row{}, fmt.Errorf("%s %q is not a whole number >= 0", name, fields[i+1])
		}
		n[i] = v
	}
	if n[0] > n[1] {
		return Row{}, fmt.Errorf("min %d is more than max %d", n[0], n[1])
	}
	return Row{Threshold: th, Min: n[0], Max: n[1]}, nil
}

// Lookup returns the row that applies to metric: the last row whose threshold it reaches, or
// (false) a zero-worker row below the first threshold.
func (t LoadTable) Lookup(metric float64) (Row, bool) {
	found, ok := Row{}, false
	for _, r := range t {
		if metric < r.Threshold {
			break
		}
		found, ok = r, true
	}
	return found, ok
}

// String is the row as the reason shows it.
func (r Row) String() string {
	return fmt.Sprintf("[>= %g: %d..%d workers]", r.Threshold, r.Min, r.Max)
}

// decideTable is the load-table policy: keep the number of workers (nodes other than the
// master, so nodes = workers + 1) inside the range the metric's row gives. Inside the range
// nothing changes, which is what stops flapping; outside, it adds up to the row's minimum or
// removes idle workers down to its maximum. MinNodes and MaxNodes still bound the cluster.
func decideTable(in Input, v view) Decision {
	s, h, now := in.Settings, in.History, in.Now
	row, ok := s.LoadTable.Lookup(in.Metric)
	where := fmt.Sprintf("metric %g -> %s", in.Metric, row)
	if !ok {
		where = fmt.Sprintf("metric %g below the first threshold %g -> no workers", in.Metric, s.LoadTable[0].Threshold)
	}
	cur, minN := len(v.live), s.minNodes()
	workers := v.workers()
	lo, hi := max(row.Min, minN-1), min(row.Max, s.MaxNodes-1)
	lo = min(lo, hi)
	room := s.MaxNodes - cur
	if cur < minN && room > 0 {
		k := min(max(minN-cur, lo-len(workers)), room)
		return Decision{Action: Add, Add: k,
			Reason: fmt.Sprintf("%s; %s < min nodes %d: adding %d", where, plural(cur, "node"), minN, k)}
	}
	if !h.LastChange.IsZero() && now.Sub(h.LastChange) < s.StabilizationTime {
		return Decision{Action: Nothing, Reason: fmt.Sprintf("%s; stabilizing: last change %s ago < %s",
			where, now.Sub(h.LastChange), s.StabilizationTime)}
	}
	w := len(workers)
	switch {
	case w < lo && room > 0:
		k := min(lo-w, room)
		if s.AddNodesPerIter > 0 {
			k = min(k, s.AddNodesPerIter)
		}
		return Decision{Action: Add, Add: k, Reason: fmt.Sprintf("%s; %s < %d: adding %d",
			where, plural(w, "worker"), lo, k)}
	case w > hi:
		var idle []string
		for _, n := range workers {
			if !in.Stats.Busy(n.Alias) && !usesSlots(in, n.Alias) {
				idle = append(idle, n.Alias)
			}
		}
		if len(idle) == 0 {
			return Decision{Action: Nothing, Reason: fmt.Sprintf("%s; %s > %d, but all run jobs",
				where, plural(w, "worker"), hi)}
		}
		newestFirst(idle)
		idle = idle[:min(len(idle), w-hi)]
		return Decision{Action: Remove, Remove: idle, Reason: fmt.Sprintf("%s; %s > %d: removing %d idle",
			where, plural(w, "worker"), hi, len(idle))}
	}
	return Decision{Action: Nothing, Reason: fmt.Sprintf("%s; %s within %d..%d", where, plural(w, "worker"), lo, hi)}
}

// usesSlots reports whether the scheduler says alias holds slots, a second sign of work next
// to the job list (a job may be listed late).
func usesSlots(in Input, alias string) bool {
	for _, h := range in.Stats.Hosts {
		if h.Name == alias && h.UsedSlots > 0 {
			return true
		}
	}
	return false
}

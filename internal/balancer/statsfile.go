package balancer

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/chart"
	"github.com/clusterctl/clusterctl/internal/scheduler"
)

// CSVHeader is the stats file's header. The first eight columns are StarCluster's
// sge-stats.csv columns in its order, so old scripts keep reading them; durations are seconds,
// times RFC 3339 UTC, decision is Decision.String().
const CSVHeader = "time,hosts,running_jobs,queued_jobs,total_slots,avg_duration_s,avg_wait_s,avg_load," +
	"used_slots,queued_slots,oldest_wait_s,nodes,decision"

// Record is one iteration's row of the stats file.
type Record struct {
	Time        time.Time
	Hosts       int // scheduler hosts that answer
	RunningJobs int // array tasks counted one by one, as everywhere
	QueuedJobs  int // all waiting jobs, including ones that can never run
	TotalSlots  int
	AvgDuration time.Duration // of jobs finished within the lookback window
	AvgWait     time.Duration // queue wait of those jobs
	AvgLoad     float64
	UsedSlots   int
	QueuedSlots int
	OldestWait  time.Duration
	Nodes       int // machines counted by the balancer, master included
	Decision    string
}

// NewRecord summarizes one iteration. Finished jobs count when they ended within lookback of
// the snapshot's time.
func NewRecord(now time.Time, st scheduler.Stats, nodes int, lookback time.Duration, d Decision) Record {
	r := Record{Time: now.UTC(), RunningJobs: len(st.Running()), QueuedJobs: len(st.Queued()),
		TotalSlots: st.TotalSlots(), AvgLoad: st.AverageLoad(), UsedSlots: st.UsedSlots(),
		QueuedSlots: st.QueuedSlots(), OldestWait: st.OldestWait(), Nodes: nodes, Decision: d.String()}
	for _, h := range st.Hosts {
		if !h.Unreachable {
			r.Hosts++
		}
	}
	ref := st.Time
	if ref.IsZero() {
		ref = now
	}
	var dur, wait time.Duration
	n := 0
	for _, f := range st.Finished {
		if f.Started.IsZero() || f.Ended.Before(ref.Add(-lookback)) {
			continue
		}
		dur += f.Ended.Sub(f.Started)
		wait += max(f.Started.Sub(f.Submitted), 0)
		n++
	}
	if n > 0 {
		r.AvgDuration, r.AvgWait = dur/time.Duration(n), wait/time.Duration(n)
	}
	return r
}

// fields renders the record in CSVHeader's order.
func (r Record) fields() []string {
	secs := func(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) }
	itoa := strconv.Itoa
	return []string{r.Time.UTC().Format(time.RFC3339), itoa(r.Hosts), itoa(r.RunningJobs),
		itoa(r.QueuedJobs), itoa(r.TotalSlots), secs(r.AvgDuration), secs(r.AvgWait),
		strconv.FormatFloat(r.AvgLoad, 'f', 2, 64), itoa(r.UsedSlots), itoa(r.QueuedSlots),
		secs(r.OldestWait), itoa(r.Nodes), r.Decision}
}

// AppendRecord adds one row to the stats file, creating it (and its directory) with the header
// first. A file with another header is refused rather than mixed into.
func AppendRecord(path string, r Record) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("stats file: %w", err)
	}
	// The cluster's queue and sizes over time are the user's alone.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("stats file: %w", err)
	}
	defer f.Close()
	first, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("stats file %s: %w", path, err)
	}
	w := csv.NewWriter(f)
	switch strings.TrimRight(first, "\r\n") {
	case "":
		if err := w.Write(strings.Split(CSVHeader, ",")); err != nil {
			return fmt.Errorf("stats file %s: %w", path, err)
		}
	case CSVHeader:
	default:
		return fmt.Errorf("stats file %s has another header; use a new file", path)
	}
	if err := w.Write(r.fields()); err != nil {
		return fmt.Errorf("stats file %s: %w", path, err)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("stats file %s: %w", path, err)
	}
	return nil
}

// ReadRecords reads a whole stats file back, for plots covering the whole run.
func ReadRecords(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("stats file: %w", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("stats file %s: %w", path, err)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != CSVHeader {
		return nil, fmt.Errorf("stats file %s: missing header %q", path, CSVHeader)
	}
	out := make([]Record, 0, len(rows)-1)
	for i, row := range rows[1:] {
		r, err := parseRecord(row)
		if err != nil {
			return nil, fmt.Errorf("stats file %s: line %d: %w", path, i+2, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// parseRecord is fields' inverse.
func parseRecord(row []string) (Record, error) {
	var errs []error
	num := func(i int) float64 {
		v, err := strconv.ParseFloat(row[i], 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("column %d: %w", i+1, err))
		}
		return v
	}
	secs := func(i int) time.Duration { return time.Duration(num(i) * float64(time.Second)) }
	t, err := time.Parse(time.RFC3339, row[0])
	if err != nil {
		errs = append(errs, fmt.Errorf("column 1: %w", err))
	}
	r := Record{Time: t, Hosts: int(num(1)), RunningJobs: int(num(2)), QueuedJobs: int(num(3)),
		TotalSlots: int(num(4)), AvgDuration: secs(5), AvgWait: secs(6), AvgLoad: num(7),
		UsedSlots: int(num(8)), QueuedSlots: int(num(9)), OldestWait: secs(10), Nodes: int(num(11)),
		Decision: row[12]}
	return r, errors.Join(errs...)
}

// PlotNames are the charts WritePlots draws, without extension, in the order it draws them.
func PlotNames() []string { return []string{"jobs", "slots", "nodes", "wait", "load"} }

// WritePlots redraws the balancer's charts from the stats records into dir as format ("png" or
// "svg"), one file per PlotNames entry, and returns their paths. Each file is written under a
// temporary name and renamed, so a browser refreshing it never sees half a picture.
func WritePlots(dir, format string, recs []Record) ([]string, error) {
	if format == "" {
		format = "png"
	}
	if len(recs) == 0 {
		return nil, errors.New("plots: no stats recorded yet")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	series := func(name string, step bool, val func(Record) float64) chart.Series {
		s := chart.Series{Name: name, Step: step, Points: make([]chart.Point, len(recs))}
		for i, r := range recs {
			s.Points[i] = chart.Point{Time: r.Time, Value: val(r)}
		}
		return s
	}
	minutes := func(d time.Duration) float64 { return d.Minutes() }
	charts := map[string]chart.Chart{
		"jobs": {Title: "jobs", YLabel: "jobs (array tasks counted)", Series: []chart.Series{
			series("running", true, func(r Record) float64 { return float64(r.RunningJobs) }),
			series("queued", true, func(r Record) float64 { return float64(r.QueuedJobs) })}},
		"slots": {Title: "slots", YLabel: "slots", Series: []chart.Series{
			series("total", true, func(r Record) float64 { return float64(r.TotalSlots) }),
			series("used", true, func(r Record) float64 { return float64(r.UsedSlots) }),
			series("queued", true, func(r Record) float64 { return float64(r.QueuedSlots) })}},
		"nodes": {Title: "cluster size", YLabel: "count", Series: []chart.Series{
			series("nodes", true, func(r Record) float64 { return float64(r.Nodes) }),
			series("scheduler hosts", true, func(r Record) float64 { return float64(r.Hosts) })}},
		"wait": {Title: "waits and durations", YLabel: "minutes", Series: []chart.Series{
			series("oldest queued wait", false, func(r Record) float64 { return minutes(r.OldestWait) }),
			series("average wait", false, func(r Record) float64 { return minutes(r.AvgWait) }),
			series("average duration", false, func(r Record) float64 { return minutes(r.AvgDuration) })}},
		"load": {Title: "average host load", YLabel: "load", Series: []chart.Series{
			series("load", false, func(r Record) float64 { return r.AvgLoad })}},
	}
	var paths []string
	for _, name := range PlotNames() {
		path := filepath.Join(dir, name+"."+format)
		tmp := filepath.Join(dir, "."+name+".tmp."+format)
		if err := charts[name].Save(tmp); err != nil {
			return paths, fmt.Errorf("plots: %w", err)
		}
		if err := os.Rename(tmp, path); err != nil {
			return paths, fmt.Errorf("plots: %w", err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}

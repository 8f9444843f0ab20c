package balancer

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/scheduler"
)

func TestNewRecord(t *testing.T) {
	hosts, running := fullHosts(map[string]int{"master": 2, "node001": 2})
	hosts = append(hosts, scheduler.Host{Name: "node002", Slots: 2, Unreachable: true})
	st := scheduler.Stats{Time: base(), Hosts: hosts, Jobs: concat(running, arrayJob("9", 3, 2*time.Minute)),
		Finished: []scheduler.FinishedJob{
			{ID: "1", Submitted: base().Add(-50 * time.Minute), Started: base().Add(-40 * time.Minute), Ended: base().Add(-10 * time.Minute)},
			{ID: "2", Submitted: base().Add(-30 * time.Minute), Started: base().Add(-20 * time.Minute), Ended: base().Add(-10 * time.Minute)},
			{ID: "3", Submitted: base().Add(-5 * time.Hour), Started: base().Add(-5 * time.Hour), Ended: base().Add(-2 * time.Hour)}, // outside the window
		}}
	r := NewRecord(base(), st, 2, time.Hour, Decision{Action: Add, Add: 1})
	want := Record{Time: base(), Hosts: 2, RunningJobs: 4, QueuedJobs: 3, TotalSlots: 4, AvgDuration: 20 * time.Minute,
		AvgWait: 10 * time.Minute, AvgLoad: 1, UsedSlots: 4, QueuedSlots: 3, OldestWait: 2 * time.Minute, Nodes: 2, Decision: "add 1"}
	if r != want {
		t.Errorf("got  %+v\nwant %+v", r, want)
	}
}

func TestStatsFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "stats.csv")
	recs := []Record{
		{Time: base(), Hosts: 1, RunningJobs: 4, QueuedJobs: 26, TotalSlots: 4, AvgLoad: 3.5, Nodes: 1, Decision: "nothing"},
		{Time: base().Add(time.Minute), Hosts: 3, RunningJobs: 12, AvgDuration: 90 * time.Second, AvgWait: 30 * time.Second,
			OldestWait: time.Minute, Nodes: 3, Decision: "remove node003 node002, now"},
	}
	for _, r := range recs {
		if err := AppendRecord(path, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != recs[0] || got[1] != recs[1] {
		t.Errorf("read back %+v", got)
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), CSVHeader+"\n") || strings.Count(string(data), CSVHeader) != 1 {
		t.Errorf("file:\n%s", data)
	}

	tests := []struct{ name, content, err string }{
		{"foreign header", "a,b,c\n1,2,3\n", "another header"},
		{"bad number", CSVHeader + "\n2026-11-01T12:00:00Z,x,0,0,0,0,0,0,0,0,0,1,nothing\n", "line 2: column 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name+".csv")
			if err := os.WriteFile(p, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, rerr := ReadRecords(p)
			aerr := AppendRecord(p, recs[0])
			if tc.name == "foreign header" {
				if aerr == nil || !strings.Contains(aerr.Error(), tc.err) {
					t.Errorf("AppendRecord: %v", aerr)
				}
				if rerr == nil {
					t.Error("ReadRecords accepted a foreign file")
				}
				return
			}
			if rerr == nil || !strings.Contains(rerr.Error(), tc.err) {
				t.Errorf("ReadRecords: %v, want %q", rerr, tc.err)
			}
		})
	}
}

func TestWritePlots(t *testing.T) {
	recs := []Record{{Time: base(), Hosts: 1, QueuedJobs: 5, Nodes: 1}, {Time: base().Add(time.Minute), Hosts: 2, Nodes: 2, AvgLoad: 1}}
	for format, magic := range map[string]string{"png": "\x89PNG", "svg": "<?xml"} {
		dir := filepath.Join(t.TempDir(), "plots")
		paths, err := WritePlots(dir, format, recs)
		if err != nil {
			t.Fatal(err)
		}
		if len(paths) != len(PlotNames()) {
			t.Errorf("%s: %d plots", format, len(paths))
		}
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil || !bytes.HasPrefix(data, []byte(magic)) || filepath.Ext(p) != "."+format {
				t.Errorf("%s: %d bytes, %v", p, len(data), err)
			}
		}
		if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*")); len(leftovers) > 0 {
			t.Errorf("temporary files left: %v", leftovers)
		}
	}
	if _, err := WritePlots(t.TempDir(), "png", nil); err == nil {
		t.Error("plots from no records")
	}
}

package slurm

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/scheduler"
)

// TestParseStats reads real output of Debian's Slurm 22.05 (testdata/, captured from a cluster
// of three "small" containers): a 5-task array job asking 300M per CPU with two tasks running,
// a held job, a job whose name has a space, node002 drained, and one finished job.
func TestParseStats(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	out := "now 1795979301 +0000\n--- nodes\n" + read("nodes.txt") + "--- jobs\n" + read("squeue.txt") + "--- jobcomp\n" + read("jobcomp.txt")
	st, err := ParseStats(out, time.Date(2026, 11, 29, 19, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if !st.Time.Equal(time.Unix(1795979301, 0)) {
		t.Errorf("time %v", st.Time)
	}
	if len(st.Hosts) != 3 {
		t.Fatalf("hosts: %+v", st.Hosts)
	}
	for _, h := range st.Hosts {
		if h.Slots != 1 || h.Memory != 896<<20 || h.Unreachable || h.Disabled != (h.Name == "node002") {
			t.Errorf("host %+v", h)
		}
	}
	if st.UsedSlots() != 2 || st.TotalSlots() != 2 {
		t.Errorf("used %d of %d slots; want 2 of 2 (node002 is drained)", st.UsedSlots(), st.TotalSlots())
	}
	if len(st.Jobs) != 7 {
		t.Fatalf("want 7 jobs (array tasks counted one by one), got %d: %+v", len(st.Jobs), st.Jobs)
	}
	running := st.Running()
	if len(running) != 2 || running[0].ID != "2" || running[0].Task != "1" || running[0].Host != "master" || running[0].Memory != 300<<20 {
		t.Errorf("running: %+v", running)
	}
	if want := time.Date(2026, 11, 29, 19, 8, 4, 0, time.UTC); !running[1].Started.Equal(want) {
		t.Errorf("started %v, want %v", running[1].Started, want)
	}
	states := map[string]scheduler.JobState{}
	for _, j := range st.Jobs {
		states[j.Name] = j.State
	}
	if states["held"] != scheduler.Held || states["two words"] != scheduler.Queued {
		t.Errorf("states by name: %v", states)
	}
	if st.QueuedSlots() != 4 {
		t.Errorf("queued slots %d, want 3 array tasks and one job", st.QueuedSlots())
	}
	if len(st.Finished) != 1 || st.Finished[0].ID != "1" || st.Finished[0].Ended.IsZero() {
		t.Errorf("finished: %+v", st.Finished)
	}
	if later, _ := ParseStats(out, time.Date(2026, 11, 29, 20, 0, 0, 0, time.UTC)); len(later.Finished) != 0 {
		t.Errorf("jobs that ended before the lookback: %+v", later.Finished)
	}
	if _, err := ParseStats("garbage", time.Time{}); err == nil {
		t.Error("garbage parsed")
	}
	if _, err := ParseStats("now 1 +0000\n--- jobs\n1|RUNNING\n", time.Time{}); err == nil {
		t.Error("a short squeue line parsed")
	}
}

func TestKeyValues(t *testing.T) {
	kv := keyValues("JobId=4 Name=two words JobState=COMPLETED WorkDir=/home/u/my dir StdOut=/x")
	for k, want := range map[string]string{"JobId": "4", "Name": "two words", "JobState": "COMPLETED", "WorkDir": "/home/u/my dir", "StdOut": "/x"} {
		if kv[k] != want {
			t.Errorf("%s = %q, want %q", k, kv[k], want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"896M": 896 << 20, "1G": 1 << 30, "512K": 512 << 10, "100": 100 << 20, "1.5G": 3 << 29} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := parseSize("lots"); err == nil || !strings.Contains(err.Error(), "lots") {
		t.Errorf("parseSize(lots) = %v", err)
	}
}

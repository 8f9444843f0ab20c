package sge

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/scheduler"
)

// TestParseStats reads real output of Debian's gridengine 8.1.9 (testdata/, captured from a
// container: a 5-task array job with one task running, a job asking 100G, an smp job).
func TestParseStats(t *testing.T) {
	read := func(name string) string { return readTestdata(t, name) }
	out := "now 1795532450 +0100\n--- qstat\n" + read("qstat.xml") + "--- qhost\n" + read("qhost.xml") + "--- qacct\n" + read("qacct.txt")
	st, err := ParseStats(out)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Time.Equal(time.Unix(1795532450, 0)) {
		t.Errorf("time %v", st.Time)
	}
	if len(st.Jobs) != 7 {
		t.Fatalf("want 7 jobs (array tasks counted one by one), got %d: %+v", len(st.Jobs), st.Jobs)
	}
	running := st.Running()
	if len(running) != 1 || running[0].ID != "1" || running[0].Task != "1" || running[0].Host != "master" || running[0].Memory != 100<<20 {
		t.Errorf("running: %+v", running)
	}
	// Local times without a zone are read in the master's zone (+0100).
	if want := time.Date(2026, 11, 23, 14, 0, 47, 0, time.UTC); !running[0].Started.Equal(want) {
		t.Errorf("started %v, want %v", running[0].Started, want)
	}
	if got := st.QueuedSlots(); got != 7 {
		t.Errorf("queued slots %d, want 4 array tasks + 1 + 2 (smp)", got)
	}
	var big scheduler.Job
	for _, j := range st.Jobs {
		if j.ID == "2" {
			big = j
		}
	}
	if big.Memory != 100<<30 || big.State != scheduler.Queued {
		t.Errorf("job 2: %+v", big)
	}
	if len(st.Hosts) != 1 {
		t.Fatalf("hosts (global is not one): %+v", st.Hosts)
	}
	h := st.Hosts[0]
	// The memory is the mem_requested capacity: what is left (3.717G) and what the running task
	// holds (100M), not the machine's 23.5G.
	left, _ := ParseSize("3.717G")
	if h.Name != "master" || h.Slots != 2 || h.UsedSlots != 1 || h.Load != 3.24 || h.Disabled || h.Unreachable || h.Memory != left+100<<20 {
		t.Errorf("host: %+v", h)
	}
	if len(st.Finished) != 2 || st.Finished[1].ID != "1" || st.Finished[1].Ended.Sub(st.Finished[1].Started) != 2*time.Second {
		t.Errorf("finished: %+v", st.Finished)
	}
	disabled := strings.Replace(out, "<queuevalue qname='all.q' name='state_string'></queuevalue>", "<queuevalue qname='all.q' name='state_string'>d</queuevalue>", 1)
	if st, _ := ParseStats(disabled); !st.Hosts[0].Disabled {
		t.Error("disabled queue instance not seen")
	}
	if _, err := ParseStats("garbage"); err == nil {
		t.Error("garbage parsed")
	}
}

// TestHostMemoryIsMemRequested reads real output of a cluster of two "small" containers (896M
// of mem_requested each) with two tasks of an array job holding 300M each: a host's memory is
// its mem_requested capacity (what is left, 596M, plus what the running task holds), not the
// 23.5G every container's /proc reports.
func TestHostMemoryIsMemRequested(t *testing.T) {
	read := func(name string) string { return readTestdata(t, name) }
	st, err := ParseStats("now 1795532450 +0000\n--- qstat\n" + read("qstat-mem.xml") + "--- qhost\n" + read("qhost-mem.xml") + "--- qacct\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Hosts) != 2 {
		t.Fatalf("hosts: %+v", st.Hosts)
	}
	for _, h := range st.Hosts {
		if h.Memory != 896<<20 || h.UsedSlots != 1 {
			t.Errorf("%s: memory %d, used slots %d; want 896M and 1", h.Name, h.Memory, h.UsedSlots)
		}
	}
	if q := st.Queued(); len(q) != 2 || q[0].Memory != 300<<20 {
		t.Errorf("queued tasks: %+v", q)
	}
}

func TestExpandTasksAndSizes(t *testing.T) {
	cases := map[string]string{"1-5:1": "1 2 3 4 5", "2-9:3": "2 5 8", "7": "7", "1,4-5": "1 4 5", "": ""}
	for in, want := range cases {
		got, err := expandTasks(in)
		if err != nil || strings.Join(got, " ") != want {
			t.Errorf("expandTasks(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := expandTasks("a-b"); err == nil {
		t.Error("bad range accepted")
	}
	sizes := map[string]int64{"100M": 100 << 20, "1.5G": 3 << 29, "512": 512, "4000000K": 4000000 << 10}
	for in, want := range sizes {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v", in, got, err)
		}
	}
	for in, want := range map[string]scheduler.JobState{"r": scheduler.Running, "qw": scheduler.Queued, "hqw": scheduler.Held, "Eqw": scheduler.Held, "t": scheduler.Running} {
		if got := jobState(in); got != want {
			t.Errorf("jobState(%q) = %s", in, got)
		}
	}
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

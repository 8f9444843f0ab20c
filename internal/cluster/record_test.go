package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
)

// TestRecordCarriesBootScripts: boot scripts survive the record's round trip, and a record too
// large for the cluster's tags is refused with the reason.
func TestRecordCarriesBootScripts(t *testing.T) {
	script := RecordScript{Name: "setup.sh", Content: "#!/bin/sh\napt-get install -y samtools\n"}
	r := minimalRecord()
	r.BootScripts = []RecordScript{script}
	got, err := DecodeRecord(r.Encode())
	if err != nil {
		t.Fatal(err)
	}
	boot := got.bootConfig([]string{"ssh-ed25519 AAAA user"})
	if len(boot.Scripts) != 1 || boot.Scripts[0].Name != script.Name || string(boot.Scripts[0].Content) != script.Content ||
		len(boot.AuthorizedKeys) != 1 {
		t.Fatalf("boot config from the record: %+v", boot)
	}
	if err := checkRecordSize(r); err != nil {
		t.Errorf("a small record is refused: %v", err)
	}
	// Random hex compresses to half at best: 24 KB of it cannot fit in 40 tags of 256 characters.
	noise := make([]byte, 12<<10)
	if _, err := rand.Read(noise); err != nil {
		t.Fatal(err)
	}
	r.BootScripts = append(r.BootScripts, RecordScript{Name: "big.sh", Content: "#!/bin/sh\n# " + hex.EncodeToString(noise)})
	err = checkRecordSize(r)
	if err == nil || !strings.Contains(err.Error(), "USERDATA_SCRIPTS") || !strings.Contains(err.Error(), "recorded with the cluster") {
		t.Errorf("an oversized record: %v", err)
	}
}

// TestRecordScheduler: a record names its scheduler; one made before SCHEDULER existed means
// Grid Engine, or none with DISABLE_QUEUE; the scheduler's own plugin entry shapes it.
func TestRecordScheduler(t *testing.T) {
	tests := []struct {
		name   string
		rec    Record
		want   string
		sched  string
		noneOK bool
	}{
		{name: "old record", rec: Record{}, want: "sge", sched: "Grid Engine"},
		{name: "old record without queue", rec: Record{DisableQueue: true}, want: "none", noneOK: true},
		{name: "slurm", rec: Record{Scheduler: "slurm", Plugins: []RecordPlugin{{Name: "sge", Builtin: "sge", Params: map[string]any{}},
			{Name: "s", Builtin: "slurm", Params: map[string]any{"master_is_compute_node": false}}}}, want: "slurm", sched: "Slurm"},
		{name: "none", rec: Record{Scheduler: "none"}, want: "none", noneOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rec.SchedulerName(); got != tt.want {
				t.Errorf("SchedulerName = %q, want %q", got, tt.want)
			}
			s, err := tt.rec.NewScheduler()
			if err != nil || (s == nil) != tt.noneOK || (s != nil && s.Name() != tt.sched) {
				t.Errorf("NewScheduler = %v, %v", s, err)
			}
		})
	}
	if _, err := (Record{Scheduler: "pbs"}).NewScheduler(); err == nil {
		t.Error("a record naming an unknown scheduler built one")
	}
}

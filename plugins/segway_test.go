package plugins

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/scheduler"
)

// TestSegwayScript: the root profile's qs alias lists the queue with the cluster's scheduler
// (none without one), the profile points DRMAA at the software volume's libdrmaa when there is
// one (slurm-drmaa on a Slurm cluster), and the script is valid shell.
func TestSegwayScript(t *testing.T) {
	s := newSegway(Params{"segway_path": "/opt/segway", "stop_services": []any{"apache2"}})
	tests := []struct {
		name  string
		cmds  scheduler.Commands
		alias string
	}{
		{"grid engine", scheduler.Commands{Queue: `qstat -u "*"`}, `alias qs='qstat -u "*"'`},
		{"slurm", scheduler.Commands{Queue: "squeue"}, "alias qs=squeue"},
		{"no scheduler", scheduler.Commands{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			script := s.script(true, tt.cmds)
			if tt.alias != "" && !strings.Contains(script, tt.alias+"\n") {
				t.Errorf("script lacks %q:\n%s", tt.alias, script)
			}
			if tt.alias == "" && strings.Contains(script, "alias qs") {
				t.Errorf("a cluster without a scheduler has no queue to alias:\n%s", script)
			}
			if !strings.Contains(script, `export DRMAA_LIBRARY_PATH="$ARCHHOME/lib/libdrmaa.so"`) {
				t.Errorf("the profile does not point DRMAA at the software volume:\n%s", script)
			}
			if out, err := exec.Command("sh", "-n", "-c", script).CombinedOutput(); err != nil {
				t.Errorf("not valid shell: %v %s", err, out)
			}
		})
	}
}

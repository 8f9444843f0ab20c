package registry

import (
	"reflect"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/config"
)

// TestRegistry: the registry sets up exactly what SCHEDULER accepts, none is no scheduler, and
// an unknown name lists the known ones.
func TestRegistry(t *testing.T) {
	if !reflect.DeepEqual(Names(), config.Schedulers()) {
		t.Errorf("registry %v, SCHEDULER accepts %v", Names(), config.Schedulers())
	}
	if Names()[0] != Default {
		t.Errorf("the default %s comes first: %v", Default, Names())
	}
	for _, tt := range []struct{ name, want string }{{"sge", "Grid Engine"}, {"slurm", "Slurm"}} {
		s, err := New(tt.name, Params{"master_is_exec_host": false, "slots_per_host": float64(2)})
		if err != nil || s == nil || s.Name() != tt.want {
			t.Errorf("New(%s) = %v, %v", tt.name, s, err)
		}
	}
	if s, err := New(None, nil); s != nil || err != nil {
		t.Errorf("New(none) = %v, %v; want no scheduler", s, err)
	}
	if _, err := New("pbs", nil); err == nil || !strings.Contains(err.Error(), "sge, slurm, none") {
		t.Errorf("New(pbs) = %v", err)
	}
}

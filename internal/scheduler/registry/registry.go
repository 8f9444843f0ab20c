// Package registry chooses a scheduler by name (the SCHEDULER key): an explicit list of the
// schedulers clusterctl carries, so the engine never imports one of them itself.
package registry

import (
	"fmt"
	"github.com/clusterctl/clusterctl/internal/config"
	"strings"

	"github.com/clusterctl/clusterctl/internal/scheduler"
	"github.com/clusterctl/clusterctl/internal/scheduler/sge"
	"github.com/clusterctl/clusterctl/internal/scheduler/slurm"
)

// Default is the scheduler of a template without SCHEDULER, as in StarCluster.
const Default = "sge"

// None is the SCHEDULER value (and what DISABLE_QUEUE = True means) for a cluster without a
// scheduler.
const None = "none"

// Params are the parameters of a scheduler's plugin entry ([plugin] SETUP_CLASS = sge or
// slurm), as the recorded template gives them back.
type Params = config.Params

// entry is one scheduler clusterctl can set up.
type entry struct {
	name  string
	build func(Params) scheduler.Scheduler
}

// entries lists the schedulers, default first.
func entries() []entry {
	return []entry{
		{name: "sge", build: func(p Params) scheduler.Scheduler {
			return sge.New(sge.Settings{MasterIsExecHost: p.Bool("master_is_exec_host", true), SlotsPerHost: p.Int("slots_per_host", 0)})
		}},
		{name: "slurm", build: func(p Params) scheduler.Scheduler {
			return slurm.New(slurm.Settings{MasterIsComputeNode: p.Bool("master_is_compute_node", true)})
		}},
	}
}

// Names lists the values SCHEDULER accepts: every scheduler, then none.
func Names() []string {
	var out []string
	for _, e := range entries() {
		out = append(out, e.name)
	}
	return append(out, None)
}

// New returns the scheduler called name, shaped by its plugin entry's parameters; none returns
// nil, a cluster without a scheduler.
func New(name string, params Params) (scheduler.Scheduler, error) {
	if name == None {
		return nil, nil
	}
	for _, e := range entries() {
		if e.name == name {
			return e.build(params), nil
		}
	}
	return nil, fmt.Errorf("unknown scheduler %q (clusterctl sets up %s)", name, strings.Join(Names(), ", "))
}

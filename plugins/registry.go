package plugins

import (
	"fmt"

	"github.com/clusterctl/clusterctl/internal/config"
	"github.com/clusterctl/clusterctl/internal/setup"
)

// New builds the plugin a [plugin] section resolved to, from its typed parameters (secret ones
// included when the config was available). The sge and slurm entries are not plugins: they
// configure the scheduler (see IsScheduler). Parameters a plugin cannot use (a malformed user name, an
// unknown log level) do not fail here but in the hooks that need them: New runs for every
// command on a cluster, with the parameters recorded at start, and a cluster must stay
// removable and stoppable whatever its recorded parameters.
func New(name, builtin string, params map[string]any) (setup.Plugin, error) {
	p := Params(params)
	switch builtin {
	case "script":
		return newScript(name, p), nil
	case "segway":
		return newSegway(p), nil
	case "pkginstaller":
		return newPkgInstaller(p), nil
	case "pypkginstaller":
		return newPyPkgInstaller(p), nil
	case "users":
		return newUsers(p), nil
	case "ipcluster":
		return newIPCluster(p), nil
	case "ipclusterstop":
		return ipClusterStop{}, nil
	case "ipclusterrestart":
		return ipClusterRestart{}, nil
	case "xvfb":
		return xvfb{}, nil
	case "tmux":
		return newTmux(p), nil
	case "mpi":
		return mpi{}, nil
	case "condor":
		return newCondor(p), nil
	}
	return nil, fmt.Errorf("plugin %s is declared but not built into this clusterctl", builtin)
}

// IsScheduler reports whether a built-in configures a scheduler (sge, slurm) rather than
// running as a plugin.
func IsScheduler(builtin string) bool {
	for _, s := range builtinSpecs() {
		if s.Name == builtin {
			return s.Scheduler != ""
		}
	}
	return false
}

// Params reads typed plugin parameters (see config.Params).
type Params = config.Params

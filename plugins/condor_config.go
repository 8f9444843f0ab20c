package plugins

import (
	"fmt"
	"strings"
)

// condorConfigFile is the configuration the condor plugin owns. HTCondor's packages read every
// file in /etc/condor/config.d in name order after /etc/condor/condor_config, so 40clusterctl
// overrides the packaged defaults and leaves later files (a site's 99local) the last word.
const condorConfigFile = "/etc/condor/config.d/40clusterctl"

// condorConfig is what one node's configuration depends on.
type condorConfig struct {
	Tag string
	// Manager is CONDOR_HOST: the central manager's name or address.
	Manager string
	// IsManager makes this node the central manager (collector and negotiator).
	IsManager bool
	// Allowed are the addresses that may talk to the pool: every node's, and the manager's
	// when it is outside the cluster.
	Allowed []string
}

// condorDaemons is the DAEMON_LIST of a role. condor_master must lead it; the central manager
// runs the collector and negotiator, and every node, the manager included, runs jobs
// (STARTD) and accepts submissions (SCHEDD), as StarCluster's pool did.
func condorDaemons(manager bool) string {
	if manager {
		return "MASTER, COLLECTOR, NEGOTIATOR, SCHEDD, STARTD"
	}
	return "MASTER, STARTD, SCHEDD"
}

// condorConfigText renders one node's configuration file.
func condorConfigText(c condorConfig) string {
	role := "execute and submit node"
	if c.IsManager {
		role = "central manager, execute and submit node"
	}
	allowed := strings.Join(c.Allowed, ", ")
	return fmt.Sprintf(`# Written by clusterctl's condor plugin for cluster %[1]s (%[2]s).
# clusterctl rewrites this file when the plugin runs and when nodes are added or removed;
# put local changes in a later file, such as /etc/condor/config.d/99local.
#
# Firewall: the hosts of the pool must reach each other on port 9618 (TCP and UDP), where
# condor_shared_port takes every daemon's connections, and on TCP ports %[6]d-%[7]d
# (LOWPORT-HIGHPORT), the range left for connections that do not use the shared port. Inside
# the cluster these are open; a central manager outside it needs them opened both ways.
#
# Authorization is by address: only the cluster's hosts may read from or write to the pool.
# HTCondor 9 and later also authenticate daemons to each other; give every host the same
# pool signing key or password (condor_store_cred) for a pool that spans several machines.

CONDOR_HOST = %[3]s
DAEMON_LIST = %[4]s

USE_SHARED_PORT = True
LOWPORT = %[6]d
HIGHPORT = %[7]d

# Every node has the same users (UIDs) and the same /home, so jobs run as their owner and
# read their files in place instead of having them transferred.
UID_DOMAIN = %[1]s.cluster
FILESYSTEM_DOMAIN = %[1]s.cluster
TRUST_UID_DOMAIN = True

ALLOW_READ = %[5]s
ALLOW_WRITE = %[5]s
ALLOW_DAEMON = %[5]s
ALLOW_NEGOTIATOR = %[3]s
ALLOW_ADMINISTRATOR = %[3]s
`, c.Tag, role, c.Manager, condorDaemons(c.IsManager), allowed, condorLowPort, condorHighPort)
}

// The port range left for connections that bypass condor_shared_port.
const (
	condorLowPort  = 9600
	condorHighPort = 9700
)

// condorMissingError says what to do when nodes lack HTCondor: Debian 12 does not package
// it, so the image has to bring it.
func condorMissingError(nodes []string) error {
	return fmt.Errorf("HTCondor is not installed on %s (no condor_version): the node image needs HTCondor, "+
		"installed from the HTCondor repositories (https://htcondor.org/downloads/); "+
		"the condor configuration was not applied there", strings.Join(nodes, ", "))
}

// condorProbeScript prints "yes" where HTCondor is installed and "no" elsewhere.
const condorProbeScript = `if command -v condor_version >/dev/null 2>&1; then echo yes; else echo no; fi`

// condorApplyScript installs the configuration and makes HTCondor use it: a running
// condor_master re-reads it (condor_reconfig starts and stops daemons to match DAEMON_LIST)
// only when it changed; a stopped one is enabled and started.
func condorApplyScript(text string) string {
	return scriptHeader + requireSystemd +
		`command -v condor_version >/dev/null 2>&1 || { echo "HTCondor is not installed on $(hostname)" >&2; exit 1; }
changed=
` + fileScript(condorConfigFile, "0644", text, "changed") + `if systemctl is-active --quiet condor; then
  [ -z "$changed" ] || condor_reconfig
else
  systemctl enable --quiet condor
  systemctl start condor
fi
`
}

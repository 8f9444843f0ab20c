package plugins

import (
	"strings"
	"testing"
)

// condorExpected is the full text of a node's configuration, parts substituted.
func condorExpected(role, manager, daemons, allowed string) string {
	return `# Written by clusterctl's condor plugin for cluster mycluster (` + role + `).
# clusterctl rewrites this file when the plugin runs and when nodes are added or removed;
# put local changes in a later file, such as /etc/condor/config.d/99local.
#
# Firewall: the hosts of the pool must reach each other on port 9618 (TCP and UDP), where
# condor_shared_port takes every daemon's connections, and on TCP ports 9600-9700
# (LOWPORT-HIGHPORT), the range left for connections that do not use the shared port. Inside
# the cluster these are open; a central manager outside it needs them opened both ways.
#
# Authorization is by address: only the cluster's hosts may read from or write to the pool.
# HTCondor 9 and later also authenticate daemons to each other; give every host the same
# pool signing key or password (condor_store_cred) for a pool that spans several machines.

CONDOR_HOST = ` + manager + `
DAEMON_LIST = ` + daemons + `

USE_SHARED_PORT = True
LOWPORT = 9600
HIGHPORT = 9700

# Every node has the same users (UIDs) and the same /home, so jobs run as their owner and
# read their files in place instead of having them transferred.
UID_DOMAIN = mycluster.cluster
FILESYSTEM_DOMAIN = mycluster.cluster
TRUST_UID_DOMAIN = True

ALLOW_READ = ` + allowed + `
ALLOW_WRITE = ` + allowed + `
ALLOW_DAEMON = ` + allowed + `
ALLOW_NEGOTIATOR = ` + manager + `
ALLOW_ADMINISTRATOR = ` + manager + `
`
}

const (
	managerDaemons = "MASTER, COLLECTOR, NEGOTIATOR, SCHEDD, STARTD"
	workerDaemons  = "MASTER, STARTD, SCHEDD"
	managerRole    = "central manager, execute and submit node"
	workerRole     = "execute and submit node"
)

func TestCondorConfigText(t *testing.T) {
	got := condorConfigText(condorConfig{Tag: "mycluster", Manager: "master", IsManager: true, Allowed: []string{"10.0.0.10", "10.0.0.11"}})
	if want := condorExpected(managerRole, "master", managerDaemons, "10.0.0.10, 10.0.0.11"); got != want {
		t.Errorf("manager:\n%s\nwant\n%s", got, want)
	}
	got = condorConfigText(condorConfig{Tag: "mycluster", Manager: "cm.example.org", Allowed: []string{"10.0.0.10", "cm.example.org"}})
	if want := condorExpected(workerRole, "cm.example.org", workerDaemons, "10.0.0.10, cm.example.org"); got != want {
		t.Errorf("worker:\n%s\nwant\n%s", got, want)
	}
}

// TestCondorConfigs renders a whole pool: which node manages it, and who may talk to it.
func TestCondorConfigs(t *testing.T) {
	nodes := "10.0.0.10, 10.0.0.11, 10.0.0.12"
	cases := []struct {
		name, host string
		want       map[string]string
	}{
		{"the master by default", "", map[string]string{
			"master":  condorExpected(managerRole, "master", managerDaemons, nodes),
			"node001": condorExpected(workerRole, "master", workerDaemons, nodes),
			"node002": condorExpected(workerRole, "master", workerDaemons, nodes),
		}},
		{"a node of the cluster, by address", "10.0.0.11", map[string]string{
			"master":  condorExpected(workerRole, "10.0.0.11", workerDaemons, nodes),
			"node001": condorExpected(managerRole, "10.0.0.11", managerDaemons, nodes),
			"node002": condorExpected(workerRole, "10.0.0.11", workerDaemons, nodes),
		}},
		{"a host elsewhere, which is also allowed", "cm.example.org", map[string]string{
			"master":  condorExpected(workerRole, "cm.example.org", workerDaemons, nodes+", cm.example.org"),
			"node001": condorExpected(workerRole, "cm.example.org", workerDaemons, nodes+", cm.example.org"),
			"node002": condorExpected(workerRole, "cm.example.org", workerDaemons, nodes+", cm.example.org"),
		}},
	}
	c := testCluster("node001", "node002")
	for _, tc := range cases {
		got, err := newCondor(Params{"condor_host": tc.host}).configs(c, c.Nodes)
		if err != nil {
			t.Fatal(err)
		}
		for alias, want := range tc.want {
			if got[alias] != want {
				t.Errorf("%s, %s:\n%s\nwant\n%s", tc.name, alias, got[alias], want)
			}
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: %d configurations", tc.name, len(got))
		}
	}
	// A removed node leaves every remaining configuration.
	got, _ := newCondor(Params{}).configs(c, c.Nodes[:2])
	if want := condorExpected(managerRole, "master", managerDaemons, "10.0.0.10, 10.0.0.11"); got["master"] != want {
		t.Errorf("after removal:\n%s", got["master"])
	}
}

func TestCondorScripts(t *testing.T) {
	apply := condorApplyScript(condorExpected(workerRole, "master", workerDaemons, "10.0.0.10"))
	checkSyntax(t, "apply", apply)
	checkSyntax(t, "probe", condorProbeScript)
	wantLines(t, "apply", apply,
		`command -v condor_version >/dev/null 2>&1 || { echo "HTCondor is not installed on $(hostname)" >&2; exit 1; }`,
		`if cmp -s "$t" /etc/condor/config.d/40clusterctl; then rm -f "$t"; else chmod 0644 "$t"; mv -f "$t" /etc/condor/config.d/40clusterctl; changed=1; fi`,
		`  [ -z "$changed" ] || condor_reconfig`,
		"DAEMON_LIST = MASTER, STARTD, SCHEDD")
	out := runSh(t, t.TempDir(), condorProbeScript, "PATH=/nonexistent")
	if strings.TrimSpace(out) != "no" {
		t.Errorf("probe without HTCondor says %q", out)
	}
	err := condorMissingError(sortedByNodeOrder([]string{"node002", "master"}, testCluster("node001", "node002").Nodes))
	for _, want := range []string{"master, node002", "needs HTCondor", "HTCondor repositories", "was not applied"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

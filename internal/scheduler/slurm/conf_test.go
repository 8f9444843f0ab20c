package slurm

import (
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

// TestRenderConfig checks slurm.conf: memory as a consumable, configless nodes, the job
// completion file, one default partition over every node whose default memory per CPU fits the
// smallest node, and node lines that read back as they were written.
func TestRenderConfig(t *testing.T) {
	nodes := []nodeLine{{Name: "master", CPUs: 2, MemoryMB: 3686}, {Name: "node001", CPUs: 4, MemoryMB: 7782}}
	conf := config{Cluster: "My-Cluster", Controller: "master", Nodes: nodes}.render()
	for _, want := range []string{
		"ClusterName=my_cluster\n", "SlurmctldHost=master\n", "SlurmctldParameters=enable_configless\n",
		"SelectType=select/cons_tres\n", "SelectTypeParameters=CR_Core_Memory\n", "AuthType=auth/munge\n",
		"JobCompType=jobcomp/filetxt\n", "JobCompLoc=" + jobcompPath + "\n",
		"NodeName=master CPUs=2 RealMemory=3686 State=UNKNOWN\n",
		"NodeName=node001 CPUs=4 RealMemory=7782 State=UNKNOWN\n",
		"PartitionName=all Nodes=ALL Default=YES MaxTime=INFINITE State=UP DefMemPerCPU=1843\n",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("slurm.conf lacks %q:\n%s", want, conf)
		}
	}
	if got := parseNodeLines(conf); !reflect.DeepEqual(got, nodes) {
		t.Errorf("node lines read back as %+v", got)
	}
	if empty := (config{Cluster: "c", Controller: "master"}).render(); strings.Contains(empty, "PartitionName") {
		t.Errorf("a partition without nodes:\n%s", empty)
	}
}

// TestParseNodeLines takes only lines in the exact form clusterctl writes: slurm.conf is read
// back from the master, and a name or number that does not fit goes nowhere near a script.
func TestParseNodeLines(t *testing.T) {
	text := strings.Join([]string{
		"NodeName=node001 CPUs=1 RealMemory=896 State=UNKNOWN",
		"NodeName=node002;reboot CPUs=1 RealMemory=896 State=UNKNOWN",
		"NodeName=node003 CPUs=1 RealMemory=896 State=UNKNOWN Feature=x",
		"NodeName=$(id) CPUs=1 RealMemory=896 State=UNKNOWN",
		"# NodeName=node004 CPUs=1 RealMemory=896 State=UNKNOWN",
		"  NodeName=node005 CPUs=2 RealMemory=1000 State=UNKNOWN  ",
	}, "\n")
	want := []nodeLine{{Name: "node001", CPUs: 1, MemoryMB: 896}, {Name: "node005", CPUs: 2, MemoryMB: 1000}}
	if got := parseNodeLines(text); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestMergeNodes(t *testing.T) {
	current := []nodeLine{{Name: "node002", CPUs: 1}, {Name: "master", CPUs: 1}, {Name: "node001", CPUs: 1}}
	got := mergeNodes(current, []nodeLine{{Name: "node003", CPUs: 2}, {Name: "node001", CPUs: 4}}, []string{"node002", "node009"})
	want := []nodeLine{{Name: "master", CPUs: 1}, {Name: "node001", CPUs: 4}, {Name: "node003", CPUs: 2}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// TestScriptsAreValidShell parses every script Slurm's setup and removal run on nodes.
func TestScriptsAreValidShell(t *testing.T) {
	conf := config{Cluster: "c", Controller: "master", Nodes: []nodeLine{{Name: "node001", CPUs: 1, MemoryMB: 896}}}.render()
	for name, s := range map[string]string{
		"install master": installScript(true), "install node": installScript(false),
		"controller": controllerScript(conf), "reconfigure": reconfigureScript, "slurmd": slurmdScript("master", false), "slurmd master": slurmdScript("master", true),
		"wait": waitRegisteredScript([]string{"master", "node001"}), "drain": nodeStateScript([]string{"node001"}, "DRAIN"),
		"resume": nodeStateScript([]string{"node001"}, "RESUME"), "retire": retireScript([]string{"node001"}, false),
		"retire forced": retireScript([]string{"node001", "node002"}, true), "stats": StatsScript(),
	} {
		if out, err := exec.Command("sh", "-n", "-c", s).CombinedOutput(); err != nil {
			t.Errorf("%s script is not valid shell: %v %s\n%s", name, err, out, s)
		}
		if strings.Contains(s, "|| true") {
			t.Errorf("%s script hides a failure behind || true:\n%s", name, s)
		}
	}
	if s := retireScript([]string{"node001"}, false); strings.Contains(s, "State=DOWN") {
		t.Errorf("a removal without force must not end jobs:\n%s", s)
	}
	if s := controllerScript(conf); !strings.Contains(s, "systemctl restart slurmctld") || strings.Contains(s, "scontrol reconfigure") || !strings.Contains(s, changedMarker) {
		t.Errorf("a changed node list restarts slurmctld and says so, leaving the reconfigure to the caller:\n%s", s)
	}
	for _, master := range []bool{false, true} {
		if s := slurmdScript("master", master); !strings.Contains(s, "Restart=on-failure") {
			t.Errorf("slurmd (master %v) is not restarted when it dies:\n%s", master, s)
		}
	}
}

func TestClusterName(t *testing.T) {
	for in, want := range map[string]string{"demo": "demo", "My-Cluster.1": "my_cluster_1", "": "cluster"} {
		if got := clusterName(in); got != want {
			t.Errorf("clusterName(%q) = %q, want %q", in, got, want)
		}
	}
}

package sge

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/scheduler"
)

func TestExecHosts(t *testing.T) {
	nodes := []scheduler.Node{{Name: "master", Master: true}, {Name: "node001"}}
	if got := scheduler.Names(New(Settings{MasterIsExecHost: true}).execHosts(nodes)); strings.Join(got, ",") != "master,node001" {
		t.Errorf("master as exec host: %v", got)
	}
	if got := scheduler.Names(New(Settings{MasterIsExecHost: false}).execHosts(nodes)); strings.Join(got, ",") != "node001" {
		t.Errorf("master_is_exec_host = false must keep the master out of the queue: %v", got)
	}
}

// TestMasterConfigScript checks the rendered master configuration: valid shell, the
// mem_requested consumable, each host's capacity, the queue settings, and min_uid lowered only
// for a system-account cluster user (an explicit CLUSTER_USER = sgeadmin).
func TestMasterConfigScript(t *testing.T) {
	full := masterConfig{Exec: []hostFacts{{Name: "node001", Slots: 4, MemoryKB: 8000000}, {Name: "node002", Slots: 8, MemoryKB: 16000000}},
		Submit: []string{"master", "node001", "node002"}, Full: true, MinUID: 105, MinGID: 104}.script()
	for _, want := range []string{
		"mem_requested mem_req MEMORY <= YES YES 0 0",
		"qconf -mattr queue shell /bin/bash all.q",
		"qconf -rattr queue load_thresholds NONE all.q",
		"allocation_rule    $fill_up",
		"allocation_rule    $pe_slots",
		`s="$s,[node002=8]"`,
		`qconf -mattr queue slots "${s#,}" all.q`,
		"min_uid 105", "min_gid 104",
		"qconf -ah master,node001,node002",
	} {
		if !strings.Contains(full, want) {
			t.Errorf("script lacks %q", want)
		}
	}
	if out, err := exec.Command("sh", "-n", "-c", full).CombinedOutput(); err != nil {
		t.Fatalf("not valid shell: %v %s", err, out)
	}
	// The master's qconf calls do not grow with the hosts: one call per list for all of them.
	many := masterConfig{Submit: []string{"master"}, Full: true, MinUID: 105, MinGID: 104}
	for i := range 500 {
		many.Exec = append(many.Exec, hostFacts{Name: fmt.Sprintf("node%03d", i+1), Slots: 2, MemoryKB: 1 << 20})
	}
	if a, b := strings.Count(full, "qconf "), strings.Count(many.script(), "qconf "); a != b {
		t.Errorf("qconf calls: %d for 2 hosts, %d for 500", a, b)
	}
	exec1 := execHostScript(hostFacts{Name: "node001", Slots: 4, MemoryKB: 8000000})
	for _, want := range []string{"complex_values        mem_requested=8000000K", "qconf -Ae $t/host", "qconf -Me $t/host", "qconf -se node001"} {
		if !strings.Contains(exec1, want) {
			t.Errorf("exec host script lacks %q", want)
		}
	}
	add := masterConfig{Exec: []hostFacts{{Name: "node003", Slots: 2, MemoryKB: 1}}, Submit: []string{"node003"}, MinUID: 1001}.script()
	if strings.Contains(add, "qconf -Mc") || strings.Contains(add, "qconf -Ap") || strings.Contains(add, "min_uid") {
		t.Errorf("adding hosts must not redo cluster-wide objects:\n%s", add)
	}
	rm := removeScript([]string{"node002", "node003"})
	for _, want := range []string{"qmod -d all.q@node002 ", "qmod -d all.q@node003 ", "qconf -de node003", "qconf -dattr hostgroup hostlist node002 @allhosts"} {
		if !strings.Contains(rm, want) {
			t.Errorf("remove script lacks %q", want)
		}
	}
	if strings.LastIndex(rm, "qmod -d") > strings.Index(rm, "qconf -dattr") {
		t.Error("hosts must be disabled before they are removed")
	}
	for name, script := range map[string]string{"remove": rm, "setup": full, "add": add, "qmaster": qmasterScript("master"), "execd": execHostScript(hostFacts{Name: "node001"}),
		"stats": StatsScript(time.Now()), "kill": killScript([]string{"node001"}), "drain": queueStateScript("-d", []string{"node001"})} {
		if strings.Contains(script, "|| true") {
			t.Errorf("the %s script hides a failure behind || true:\n%s", name, script)
		}
	}
}

// TestScriptsAreValidShell parses every script the scheduler runs on nodes.
func TestScriptsAreValidShell(t *testing.T) {
	for name, s := range map[string]string{
		"install": installScript("master", true), "qmaster": qmasterScript("master"), "execd": execHostScript(hostFacts{Name: "node001", Slots: 1, MemoryKB: 1}),
		"wait": waitReportingScript([]string{"master", "node001"}), "remove": removeScript([]string{"node001"}),
		"stats": StatsScript(time.Now()),
	} {
		if out, err := exec.Command("sh", "-n", "-c", s).CombinedOutput(); err != nil {
			t.Errorf("%s script is not valid shell: %v %s", name, err, out)
		}
	}
}

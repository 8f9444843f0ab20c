package plugins

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/setup"
)

// TestScriptTargets: WHERE picks the master and/or the workers for whole-cluster hooks, and
// the master and/or the changed nodes for add and remove; unreachable nodes are left out.
func TestScriptTargets(t *testing.T) {
	c := testCluster("node001", "node002", "node003")
	for _, n := range c.Nodes {
		n.Target.Addr = n.PrivateIP + ":22"
	}
	c.Nodes[3].Target.Addr = "" // a vanished spot node
	added := []*setup.Node{c.Nodes[2], c.Nodes[3]}
	cases := []struct {
		where   string
		changed []*setup.Node
		want    string
	}{
		{"all", nil, "master node001 node002"},
		{"master", nil, "master"},
		{"nodes", nil, "node001 node002"},
		{"all", added, "master node002"},
		{"nodes", added, "node002"},
		{"master", added, "master"},
	}
	for _, tc := range cases {
		s := newScript("svc", Params{"where": tc.where, "run": "/x"})
		var got []string
		for _, n := range s.targets(c, tc.changed) {
			got = append(got, n.Alias)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("WHERE=%s changed=%d: %v, want %s", tc.where, len(tc.changed), got, tc.want)
		}
	}
}

// TestScriptEnv: the facts a hook gets, and values read back from the cloud that could carry
// shell syntax are refused before they reach a root shell.
func TestScriptEnv(t *testing.T) {
	c := testCluster("node001", "node002")
	c.Volumes = []setup.Volume{{MountPath: "/data"}, {MountPath: "/results"}}
	env, err := scriptEnv(c, "svc", "on_remove_node", "/var/lib/clusterctl/plugins/svc", c.Nodes[1], c.Nodes[2:])
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"CLUSTERCTL_TAG=mycluster", "CLUSTERCTL_PLUGIN=svc", "CLUSTERCTL_HOOK=on_remove_node",
		"CLUSTERCTL_NODE=node001", "CLUSTERCTL_ROLE=node", "CLUSTERCTL_MASTER=master", "CLUSTERCTL_MASTER_ADDR=10.0.0.10",
		"CLUSTERCTL_NODES=master node001", "CLUSTERCTL_HOOK_NODES=node002", "CLUSTERCTL_USER=sgeadmin",
		"CLUSTERCTL_VOLUMES=/data /results", "CLUSTERCTL_PLUGIN_DIR=/var/lib/clusterctl/plugins/svc"}
	got := strings.Join(env, "\n")
	for _, w := range want {
		if !strings.Contains(got+"\n", w+"\n") {
			t.Errorf("env lacks %s:\n%s", w, got)
		}
	}
	for name, spoil := range map[string]func(*setup.Cluster){
		"alias":       func(c *setup.Cluster) { c.Nodes[2].Alias = "node002;reboot" },
		"user":        func(c *setup.Cluster) { c.User = "$(id)" },
		"mount path":  func(c *setup.Cluster) { c.Volumes[0].MountPath = "/data `x`" },
		"tag":         func(c *setup.Cluster) { c.Tag = "a b" },
		"master addr": func(c *setup.Cluster) { c.Nodes[0].PrivateIP = "10.0.0.1'" },
	} {
		bad := testCluster("node001", "node002")
		bad.Volumes = []setup.Volume{{MountPath: "/data"}}
		spoil(bad)
		if _, err := scriptEnv(bad, "svc", "run", "/d", bad.Nodes[0], nil); err == nil {
			t.Errorf("%s: an unsafe value was passed on", name)
		}
	}
}

// TestScriptCommand runs the command line a hook gets, here on this machine: the hook runs in
// its directory with a clean environment holding only the facts, and a value with quotes or
// spaces arrives intact.
func TestScriptCommand(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "run"), []byte("#!/bin/sh\npwd\nenv | sort\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SECRET_FROM_CALLER", "x")
	s := newScript("svc", Params{"run": "/x"})
	cmd, err := s.command(testCluster(), dir, "run", []string{"CLUSTERCTL_NODES=master node001", "CLUSTERCTL_X=it's \"quoted\""})
	if err != nil {
		t.Fatal(err)
	}
	out := runSh(t, "/", cmd)
	wantLines(t, "hook output", out, dir, "CLUSTERCTL_NODES=master node001", `CLUSTERCTL_X=it's "quoted"`, "HOME=/root", "USER=root")
	if strings.Contains(out, "SECRET_FROM_CALLER") {
		t.Errorf("the caller's environment leaked into the hook:\n%s", out)
	}
	u := newScript("svc", Params{"run": "/x", "run_as": "user"})
	cmd, err = u.command(testCluster(), dir, "run", nil)
	if err != nil || !strings.HasPrefix(strings.SplitN(cmd, "&& ", 2)[1], "runuser -u sgeadmin -- env -i 'HOME=/home/sgeadmin' 'USER=sgeadmin'") {
		t.Errorf("RUN_AS = user: %q %v", cmd, err)
	}
	checkSyntax(t, "user command", cmd)
}

// TestCheckScriptParams: a script plugin needs a hook, and its files must exist.
func TestCheckScriptParams(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "setup.sh")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		params map[string]any
		want   map[string]string
	}{
		{"one hook", map[string]any{"run": exe}, map[string]string{}},
		{"no hook", map[string]any{"where": "all"}, map[string]string{"": "a script plugin needs at least one of RUN"}},
		{"missing file", map[string]any{"on_add_node": filepath.Join(dir, "nope.sh")}, map[string]string{"on_add_node": "ON_ADD_NODE " + filepath.Join(dir, "nope.sh") + " cannot be read"}},
		{"a directory", map[string]any{"run": dir}, map[string]string{"run": "is not a regular file"}},
		{"missing extra file", map[string]any{"run": exe, "files": []string{exe, filepath.Join(dir, "gone.conf")}}, map[string]string{"files": "FILES item"}},
	}
	for _, tc := range cases {
		got := checkScriptParams(tc.params)
		if len(got) != len(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
		for k, w := range tc.want {
			if !strings.Contains(got[k], w) {
				t.Errorf("%s: %s = %q, want it to contain %q", tc.name, k, got[k], w)
			}
		}
	}
}

func TestScriptErrorAndLines(t *testing.T) {
	e := &ScriptError{Plugin: "svc", Hook: "on_add_node", Script: "/p/add.sh", Node: "node002", Status: 3, Tail: "starting\nno config for node002\n"}
	want := "ON_ADD_NODE (/p/add.sh) exited with status 3 on node002; its output ended with:\n  | starting\n  | no config for node002"
	if e.Error() != want {
		t.Errorf("error = %q", e.Error())
	}
	var lines []string
	w := &lineWriter{fn: func(l string) { lines = append(lines, l) }}
	_, _ = w.Write([]byte("one\ntw"))
	_, _ = w.Write([]byte("o\r\nthree"))
	w.Flush()
	if strings.Join(lines, "|") != "one|two|three" {
		t.Errorf("lines = %q", lines)
	}
}

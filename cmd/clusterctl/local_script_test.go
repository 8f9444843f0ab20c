package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/ui"
)

// TestLocalScriptPlugin runs the ported plugin of examples/peers.ini (a service whose peer list
// follows the nodes) and a RUN_AS = user script on a real local cluster, and observes every
// hook on the nodes: RUN at start, ON_ADD_NODE on the master and the new node, ON_REMOVE_NODE,
// ON_RESTART, and an ON_SHUTDOWN that fails until -f. Along the way it exercises StarCluster's
// flags on a live cluster: start -l and -d, addnode -i/-I/-z, removenode TAG NODE, restart -o,
// listclusters -s, stop -f and terminate -f.
func TestLocalScriptPlugin(t *testing.T) {
	peers, _ := filepath.Abs("../../examples/peers")
	whoami, _ := filepath.Abs("testdata/script-plugin/whoami.sh")
	e := newLocalEnv(t, `[cluster svc]
PROVIDER = local
CLUSTER_SIZE = 2
NODE_IMAGE_ID = debian-12
NODE_INSTANCE_TYPE = small
DISABLE_QUEUE = true
PLUGINS = peers, asuser

[plugin peers]
SETUP_CLASS = script
RUN = `+peers+`/setup.sh
ON_ADD_NODE = `+peers+`/add-node.sh
ON_REMOVE_NODE = `+peers+`/remove-node.sh
ON_RESTART = `+peers+`/restart.sh
ON_SHUTDOWN = `+peers+`/shutdown.sh
FILES = `+peers+`/peers.service, `+peers+`/setup.sh

[plugin asuser]
SETUP_CLASS = script
RUN = `+whoami+`
RUN_AS = user
WHERE = nodes
`)
	const tag = "scr"
	e.terminateAtEnd(tag)

	// start -l logs in to the master once the cluster is ready; -d is recorded.
	r := e.cliIn("echo LOGGED-IN-$(hostname)\nexit\n", "start", "-l", "-d", "peers demo", "-c", "svc", tag)
	if r.code != 0 || !strings.Contains(r.out, "LOGGED-IN-master") {
		t.Fatalf("start -l: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.errOut)
	}
	for _, want := range []string{"✓ RUN: setup.sh on 2 nodes", "✓ RUN: whoami.sh on 1 node"} {
		if !strings.Contains(r.errOut, want) {
			t.Errorf("start's status lacks %q:\n%s", want, r.errOut)
		}
	}
	logText, _ := os.ReadFile(filepath.Join(e.home, ".clusterctl", "logs", "clusterctl.log"))
	if !strings.Contains(string(logText), "peers running on node001 with 2 peers") {
		t.Errorf("the scripts' output is not in the debug log")
	}
	peerList := func() string { return e.on(tag, "master", "tr '\\n' ' ' < /etc/peers/peers.conf") }
	if got := peerList(); got != "master node001" {
		t.Errorf("peers after start: %q", got)
	}
	for _, n := range []string{"master", "node001"} {
		if got := e.on(tag, n, "systemctl is-active peers"); got != "active" {
			t.Errorf("peers service on %s: %s", n, got)
		}
	}
	facts := e.on(tag, "node001", "cat /var/lib/peers/facts")
	for _, want := range []string{"CLUSTERCTL_TAG=scr", "CLUSTERCTL_NODE=node001", "CLUSTERCTL_ROLE=node", "CLUSTERCTL_MASTER=master",
		"CLUSTERCTL_NODES=master node001", "CLUSTERCTL_USER=clusteruser", "CLUSTERCTL_HOOK=run", "CLUSTERCTL_PLUGIN=peers"} {
		if !strings.Contains(facts, want+"\n") && !strings.HasSuffix(facts, want) {
			t.Errorf("facts lack %s:\n%s", want, facts)
		}
	}
	if got := e.on(tag, "node001", "sudo cat /home/clusteruser/ran-on-node001"); got != "clusteruser /var/lib/clusterctl/plugins/asuser run" {
		t.Errorf("RUN_AS = user: %q", got)
	}
	if got := e.on(tag, "master", "sudo ls /home/clusteruser/ran-on-master 2>&1 || true"); !strings.Contains(got, "No such file") {
		t.Errorf("WHERE = nodes ran on the master: %q", got)
	}
	if r := e.must("listclusters", "-s", tag); !regexpLine(r.out, "master", "running", "up") || !regexpLine(r.out, "node001", "up") ||
		!strings.Contains(r.out, "Description:    peers demo") {
		t.Errorf("listclusters -s:\n%s", r.out)
	}

	// addnode: StarCluster's -i is the image, -I the type, -z the zone.
	e.must("addnode", "-i", "debian-12", "-I", "medium", "-z", "local", tag)
	if got := peerList(); got != "master node001 node002" {
		t.Errorf("peers after addnode: %q", got)
	}
	if got := e.on(tag, "node002", "systemctl is-active peers; grep HOOK /var/lib/peers/facts | tr '\\n' ' '"); got != "active\nCLUSTERCTL_HOOK=on_add_node CLUSTERCTL_HOOK_NODES=node002" {
		t.Errorf("ON_ADD_NODE on the new node: %q", got)
	}
	var listed []clusterListing
	if err := json.Unmarshal([]byte(e.must("--output", "json", "listclusters", tag).out), &listed); err != nil || len(listed) != 1 {
		t.Fatalf("listclusters json: %v", err)
	}
	for _, n := range listed[0].Nodes {
		if n.Alias == "node002" && (n.InstanceType != "medium" || n.ImageID != "debian-12" || n.Zone != "local") {
			t.Errorf("addnode -i/-I/-z: node002 is %s on %s in %s", n.InstanceType, n.ImageID, n.Zone)
		}
	}

	// removenode TAG NODE, StarCluster's older form.
	e.must("removenode", "-y", tag, "node002")
	if got := peerList(); got != "master node001" {
		t.Errorf("peers after removenode: %q", got)
	}

	// restart -o reboots (ON_RESTART runs first) without setting up again (RUN does not).
	e.must("restart", "-o", tag)
	if got := e.on(tag, "node001", "tr '\\n' ' ' < /var/lib/peers/history"); got != "run on_restart" {
		t.Errorf("hooks seen by node001 after restart -o: %q", got)
	}
	if got := e.on(tag, "master", "systemctl is-active peers"); got != "active" {
		t.Errorf("peers service after the reboot: %s", got)
	}

	// put writes into /root through sudo; get reads it back the same way.
	tree := filepath.Join(e.home, "tree")
	if err := os.MkdirAll(filepath.Join(tree, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tree, "sub", "data.txt"), []byte("root's data\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.must("put", tag, tree, "/root/")
	back := filepath.Join(e.home, "back")
	e.must("get", tag, "/root/tree", back)
	if data, err := os.ReadFile(filepath.Join(back, "sub", "data.txt")); err != nil || string(data) != "root's data\n" {
		t.Errorf("get /root/tree after put: %q %v", data, err)
	}

	// A failing ON_SHUTDOWN stops stop and terminate, with the node and the script's output,
	// until -f.
	e.on(tag, "master", "sudo touch /etc/peers/hold")
	for _, cmd := range [][]string{{"stop", "-y", tag}, {"terminate", "-y", tag}} {
		r := e.cli(cmd...)
		if r.code == 0 || !strings.Contains(r.errOut, "ON_SHUTDOWN ("+peers+"/shutdown.sh) exited with status 3 on master") ||
			!strings.Contains(r.errOut, "| refusing to shut down: /etc/peers/hold exists on master") || !strings.Contains(r.errOut, "use -f") {
			t.Fatalf("%v with a failing shutdown hook: %+v", cmd, r)
		}
	}
	if got := e.on(tag, "master", "systemctl is-active peers"); got != "active" {
		t.Errorf("the refused stop changed the cluster: %s", got)
	}
	r = e.must("stop", "-f", "-y", tag)
	if !strings.Contains(r.errOut, "going on, -f") || !strings.Contains(r.errOut, "is stopped") {
		t.Errorf("stop -f: %s", r.errOut)
	}
	e.must("terminate", "-f", "-y", tag)
	if r := e.must("--output", "json", "listclusters"); strings.TrimSpace(r.out) != "[]" {
		t.Errorf("after terminate: %s", r.out)
	}
}

// cliIn runs clusterctl with text on its standard input.
func (e *localEnv) cliIn(stdin string, args ...string) cliResult {
	e.t.Helper()
	streams, in, out, errOut := ui.TestStreams()
	in.WriteString(stdin)
	code := runWith(context.Background(), append([]string{"--config", e.config}, args...), streams, func(a *app) {
		a.localStateDir, a.localImageDir = e.stateDir, localImageDir
	})
	return cliResult{code: code, out: out.String(), errOut: errOut.String()}
}

// TestLocalResizeVolume: a local volume (a directory) grows its recorded size; it only grows.
func TestLocalResizeVolume(t *testing.T) {
	e := newLocalEnv(t, "[global]\n")
	id := strings.TrimSpace(e.must("createvolume", "1", "local", "-n", "grow").out)
	r := e.must("resizevolume", id, "3")
	if !strings.Contains(r.errOut, "volume "+id+" is 3 GB") {
		t.Errorf("resizevolume: %s", r.errOut)
	}
	var vols []struct {
		ID     string `json:"id"`
		SizeGB int    `json:"size_gb"`
	}
	if err := json.Unmarshal([]byte(e.must("--output", "json", "listvolumes", "-z", "local").out), &vols); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, v := range vols {
		found = found || (v.ID == id && v.SizeGB == 3)
	}
	if !found {
		t.Errorf("listvolumes after resize: %+v", vols)
	}
	if r := e.cli("resizevolume", id, "2"); r.code != exitUsage {
		t.Errorf("shrinking: %+v", r)
	}
	e.must("removevolume", "-y", id)
}

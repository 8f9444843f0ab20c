package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// seedSnapshot makes a local volume holding genomes/hg38.txt and snapshots it with the CLI, the
// way a user prepares data for local clusters (a local volume is a directory on this machine).
func seedSnapshot(t *testing.T, e *localEnv) string {
	t.Helper()
	vol := strings.TrimSpace(e.must("createvolume", "1", "local", "-n", "seed").out)
	data := filepath.Join(e.stateDir, "volumes", vol, "data", "genomes")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "hg38.txt"), []byte("ACGT\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	snap := strings.TrimSpace(e.must("createsnapshot", vol, "-n", "seed").out)
	if !cloud.SnapshotIDPattern.MatchString(snap) {
		t.Fatalf("createsnapshot printed %q", snap)
	}
	return snap
}

// copiesOf lists the cluster's copies of snapshots by node alias, from listvolumes.
func copiesOf(t *testing.T, e *localEnv, tag string) map[string][]cloud.Volume {
	t.Helper()
	var vols []cloud.Volume
	r := e.must("--output", "json", "listvolumes", "-z", "local", "-t", cloud.TagCluster+"="+tag)
	if err := json.Unmarshal([]byte(r.out), &vols); err != nil {
		t.Fatal(err)
	}
	alias := map[string]string{}
	var infos []struct {
		Nodes []cloud.Instance `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(e.must("--output", "json", "listclusters", tag).out), &infos); err != nil {
		t.Fatal(err)
	}
	for _, in := range infos[0].Nodes {
		alias[in.ID] = in.Alias
	}
	out := map[string][]cloud.Volume{}
	for _, v := range vols {
		if v.SnapshotID != "" {
			out[alias[v.AttachedTo]] = append(out[alias[v.AttachedTo]], v)
		}
	}
	return out
}

// TestLocalDataCopies is GBrowse's workflow on a local cluster: every node reads its own copy
// of a snapshot (read-only; the writable one keeps each node's writes to itself), syncdata puts
// new data from the master into a new snapshot, --rollout replaces the worker that had the old
// data, a node added afterwards gets the new data, and removed nodes take their copies along.
func TestLocalDataCopies(t *testing.T) {
	e := newLocalEnv(t, "")
	snap := seedSnapshot(t, e)
	if err := os.WriteFile(e.config, []byte(`
[volume ref]
SHARE = copy
SNAPSHOT_ID = `+snap+`
MOUNT_PATH = /ref

[volume scratch]
SHARE = copy
SNAPSHOT_ID = `+snap+`
MOUNT_PATH = /scratch
READ_ONLY = false

[cluster gbrowse]
PROVIDER = local
CLUSTER_SIZE = 2
NODE_IMAGE_ID = debian-12
NODE_INSTANCE_TYPE = small
DISABLE_QUEUE = True
VOLUMES = ref, scratch
`), 0o600); err != nil {
		t.Fatal(err)
	}
	const tag = "copies"
	e.terminateAtEnd(tag)
	e.must("start", "-c", "gbrowse", tag)

	for _, n := range []string{"master", "node001"} {
		if got := e.on(tag, n, "cat /ref/genomes/hg38.txt /scratch/genomes/hg38.txt"); got != "ACGT\nACGT" {
			t.Errorf("%s reads %q", n, got)
		}
	}
	if r := e.cli("sshmaster", tag, "sudo touch /ref/genomes/x"); r.code == 0 {
		t.Error("the read-only copy took a write")
	}
	e.on(tag, "master", "echo mine | sudo tee /scratch/genomes/hg38.txt >/dev/null")
	if got := e.on(tag, "node001", "cat /scratch/genomes/hg38.txt"); got != "ACGT" {
		t.Errorf("a write on the master reached node001's copy: %q", got)
	}
	before := copiesOf(t, e, tag)
	if len(before["master"]) != 2 || len(before["node001"]) != 2 {
		t.Fatalf("copies after start: %+v", before)
	}
	oldNode := before["node001"][0].AttachedTo

	// New data on the master goes into a new snapshot; --rollout replaces node001.
	e.on(tag, "master", "sudo mkdir -p /srv/release && echo v2 | sudo tee /srv/release/notes.txt >/dev/null")
	r := e.must("syncdata", tag, "--volume", "ref", "--rollout", "/srv/release/")
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	if len(lines) != 2 || lines[0] != "[volume ref]" || !strings.HasPrefix(lines[1], "SNAPSHOT_ID = snap-") {
		t.Fatalf("syncdata printed %q\n%s", r.out, r.errOut)
	}
	newSnap := strings.TrimPrefix(lines[1], "SNAPSHOT_ID = ")
	if !strings.Contains(r.errOut, "replaced 1 worker: node001") || !strings.Contains(r.errOut, "master keeps its older copy") {
		t.Errorf("rollout output:\n%s", r.errOut)
	}
	e.must("addnode", tag)
	for n, want := range map[string]string{"master": "ACGT", "node001": "v2", "node002": "v2"} {
		got := e.on(tag, n, "cat /ref/genomes/hg38.txt 2>/dev/null || cat /ref/notes.txt")
		if got != want {
			t.Errorf("%s reads %q in /ref, want %q", n, got, want)
		}
	}
	after := copiesOf(t, e, tag)
	for n, snaps := range map[string][2]string{"master": {snap, snap}, "node001": {newSnap, snap}, "node002": {newSnap, snap}} {
		got := map[string]bool{}
		for _, v := range after[n] {
			got[v.SnapshotID] = true
		}
		if len(after[n]) != 2 || !got[snaps[0]] || !got[snaps[1]] {
			t.Errorf("%s's copies: %+v, want from %v", n, after[n], snaps)
		}
	}
	for _, vs := range after {
		for _, v := range vs {
			if v.AttachedTo == oldNode {
				t.Errorf("a copy of the replaced node001 is left: %+v", v)
			}
		}
	}

	e.must("removenode", "-y", "-a", "node002", tag)
	if left := copiesOf(t, e, tag); len(left["node002"]) != 0 || len(left) != 2 {
		t.Errorf("after removenode: %+v", left)
	}
	r = e.must("listsnapshots", tag)
	if !strings.Contains(r.out, newSnap) || !strings.Contains(r.out, snap) {
		t.Errorf("listsnapshots:\n%s", r.out)
	}
	e.must("terminate", "-y", tag)
	var vols []cloud.Volume
	if err := json.Unmarshal([]byte(e.must("--output", "json", "listvolumes", "-z", "local").out), &vols); err != nil || len(vols) != 1 {
		t.Errorf("volumes after terminate (only the seed should be left): %+v %v", vols, err)
	}
}

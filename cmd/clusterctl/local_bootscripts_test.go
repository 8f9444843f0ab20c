package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestLocalBootScriptsFollowNewNodes: USERDATA_SCRIPTS run on every instance, including nodes
// added later by addnode, which reads them from the cluster's record rather than from the
// config (another machine may not have the files).
func TestLocalBootScriptsFollowNewNodes(t *testing.T) {
	e := newLocalEnv(t, "")
	script := filepath.Join(e.home, "mark.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"boot script ran on $(hostname)\" > /root/boot-mark\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.config, []byte(`
[cluster scripted]
PROVIDER = local
CLUSTER_SIZE = 1
NODE_IMAGE_ID = debian-12
NODE_INSTANCE_TYPE = small
DISABLE_QUEUE = True
USERDATA_SCRIPTS = `+script+`
`), 0o600); err != nil {
		t.Fatal(err)
	}
	const tag = "bootscripts"
	e.terminateAtEnd(tag)
	e.must("start", "-c", "scripted", tag)
	// The script file is gone: addnode must not need it.
	if err := os.Remove(script); err != nil {
		t.Fatal(err)
	}
	e.must("addnode", tag)
	for _, n := range []string{"master", "node001"} {
		got := e.on(tag, n, "for i in $(seq 1 100); do sudo test -f /root/boot-mark && break; sleep 0.2; done; sudo cat /root/boot-mark")
		if got != "boot script ran on "+n {
			t.Errorf("%s: boot mark %q", n, got)
		}
	}
}

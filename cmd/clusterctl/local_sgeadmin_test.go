package main

import (
	"strings"
	"testing"
)

// TestLocalSgeadminUser keeps StarCluster's old default working when written explicitly:
// CLUSTER_USER = sgeadmin is the gridengine packages' system account (UID and GID below 1000,
// home outside /home, no login shell), yet it logs in, runs jobs and reaches the other nodes.
func TestLocalSgeadminUser(t *testing.T) {
	e := newLocalEnv(t, `[cluster sa]
PROVIDER = local
CLUSTER_SIZE = 2
NODE_IMAGE_ID = debian-12
NODE_INSTANCE_TYPE = small
CLUSTER_USER = sgeadmin
`)
	const tag = "sa"
	e.terminateAtEnd(tag)
	e.must("start", "-c", "sa", tag)
	out := strings.TrimSpace(e.must("sshmaster", "-u", "sgeadmin", tag, "whoami; qsub -b y -sync y true >/dev/null && echo ran; ssh -o BatchMode=yes node001 hostname").out)
	if out != "sgeadmin\nran\nnode001" {
		t.Errorf("as sgeadmin: %q", out)
	}
	e.must("terminate", "-y", tag)
}

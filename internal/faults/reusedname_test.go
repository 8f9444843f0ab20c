package faults

import (
	"strings"
	"testing"
	"time"
)

// TestReusedName: a node added under the name of an exec host that vanished minutes before
// joins Grid Engine. The qmaster, which kept asking after the dead host's execd, caches the
// name as unresolvable once the other nodes forgot it (by default for a minute, refreshed every
// two); clusterctl's qmaster resolves it again within seconds, and the master's step waits for
// that instead of failing with "can't resolve hostname".
func TestReusedName(t *testing.T) {
	t.Parallel()
	e := newLocalEnv(t)
	const tag = "reuse"
	e.terminateAtEnd(tag)
	e.must("start", "-c", "small", tag)
	e.must("addnode", "-a", "node002", tag)
	e.kill(tag, "node002")
	e.must("repair", tag)
	// Past the qmaster's default refresh of a known name (two minutes): by now it has looked
	// node002 up again and found nothing.
	time.Sleep(150 * time.Second)
	r := e.must("addnode", "-a", "node002", tag)
	if !strings.Contains(r.errOut, "added 1 node to reuse: node002") {
		t.Errorf("addnode under a reused name:\n%s", r)
	}
	if execs := e.on(tag, "master", "qconf -sel"); !strings.Contains(execs, "node002") {
		t.Errorf("node002 is no exec host: %q", execs)
	}
	e.noDuplicates(tag)
}

package faults

import (
	"net"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud/ec2/cloudinittest"
)

// TestSpotNotice: a spot node added to a local cluster gets the interruption watcher, pointed
// at a fake metadata service on the cluster's bridge. When the service gives EC2's
// two-minute notice, the node is drained in Grid Engine (no new job starts there); when the
// node then goes, repair --replace puts a spot node with the same bid in its place, watcher
// included.
func TestSpotNotice(t *testing.T) {
	t.Parallel()
	e := newLocalEnv(t)
	const tag = "spotty"
	e.terminateAtEnd(tag)
	e.must("start", "-c", "small", tag)

	master := netip.MustParseAddr(e.node(tag, "master").PrivateIP).As4()
	gateway := netip.AddrFrom4([4]byte{master[0], master[1], master[2], 1})
	ln, err := net.Listen("tcp", netip.AddrPortFrom(gateway, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	service := &cloudinittest.IMDS{}
	srv := httptest.NewUnstartedServer(service)
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	e.extra = append(e.extra, "CLUSTERCTL_INSTANCE_METADATA=http://"+ln.Addr().String())

	if r := e.must("addnode", "-b", "0.05", tag); !strings.Contains(r.errOut, "✓ spot interruption watcher (1/1 nodes") {
		t.Errorf("addnode of a spot node installed no watcher:\n%s", r.errOut)
	}
	if got := e.node(tag, "node002").Lifecycle; got != "spot" {
		t.Fatalf("node002 is %s", got)
	}
	const poll = "GET /latest/meta-data/spot/instance-action Not Found"
	waitFor(t, "the watcher polling", time.Minute, func() bool { return service.Count(poll) >= 2 })
	state := func() string {
		return e.on(tag, "master", `qstat -f -q all.q@node002 | awk '$1 == "all.q@node002" { print $6 }'`)
	}
	if s := state(); strings.Contains(s, "d") {
		t.Fatalf("node002 drained before any notice: %q", s)
	}
	service.Set("spot/instance-action", `{"action": "terminate", "time": "2026-11-29T21:00:00Z"}`, true)
	waitFor(t, "node002 drained after the notice", time.Minute, func() bool { return strings.Contains(state(), "d") })
	if log := e.on(tag, "node002", "sudo journalctl -u clusterctl-spot-watch --no-pager"); !strings.Contains(log, "drained this node") {
		t.Errorf("watcher's log:\n%s", log)
	}

	e.kill(tag, "node002")
	service.Set("spot/instance-action", "", false) // the next spot node has no notice yet
	if r := e.must("repair", "--replace", tag); !strings.Contains(r.errOut, "✓ spot interruption watcher") {
		t.Errorf("the replacement got no watcher:\n%s", r.errOut)
	}
	if n := e.node(tag, "node002"); n.Lifecycle != "spot" || n.SpotPrice != "0.05" || n.State != "running" {
		t.Errorf("replacement: %+v", n)
	}
	if s := state(); strings.Contains(s, "d") {
		t.Errorf("the replacement is drained: %q", s)
	}
}

package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// repeatStarts is how many times TestLocalStartRepeatedly starts its cluster. A boot problem
// that hits one start in ten (units failing at boot on a cgroup v1 host, logins refused by a
// leftover /run/nologin) fails this test far more often than not.
const repeatStarts = 10

// TestLocalStartRepeatedly starts a 4-node Grid Engine cluster, checks every node is usable
// (booted clean, its login user logs in, it is a Grid Engine host) and terminates it, ten times
// in a row. Every start must succeed.
func TestLocalStartRepeatedly(t *testing.T) {
	e := newLocalEnv(t, `
[cluster four]
PROVIDER = local
CLUSTER_SIZE = 4
NODE_IMAGE_ID = debian-12
NODE_INSTANCE_TYPE = small
PLUGINS = sge

[plugin sge]
SETUP_CLASS = sge
MASTER_IS_EXEC_HOST = true
`)
	nodes := []string{"master", "node001", "node002", "node003"}
	var failures []string
	var took []string
	for i := 1; i <= repeatStarts; i++ {
		tag := fmt.Sprintf("repeat%d", i)
		start := time.Now()
		r := e.cli("start", "-c", "four", tag)
		took = append(took, time.Since(start).Round(100*time.Millisecond).String())
		if r.code != 0 {
			failures = append(failures, fmt.Sprintf("start %d: exit %d:\n%s", i, r.code, r.errOut))
		} else {
			qhost := e.on(tag, "master", "qhost")
			for _, n := range nodes {
				if state := e.on(tag, n, "systemctl is-system-running; test ! -e /run/nologin && echo logins-allowed"); state != "running\nlogins-allowed" {
					failures = append(failures, fmt.Sprintf("start %d: %s is %q", i, n, state))
				}
				if !strings.Contains(qhost, "\n"+n+" ") {
					failures = append(failures, fmt.Sprintf("start %d: %s not in qhost:\n%s", i, n, qhost))
				}
			}
		}
		if r := e.cli("terminate", "-y", tag); r.code != 0 {
			t.Fatalf("terminate %s: exit %d:\n%s", tag, r.code, r.errOut)
		}
	}
	t.Logf("start times: %s", strings.Join(took, ", "))
	if len(failures) > 0 {
		t.Fatalf("%d problems in %d starts:\n%s", len(failures), repeatStarts, strings.Join(failures, "\n"))
	}
}

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/testenv"
	"github.com/clusterctl/clusterctl/internal/ui"
)

// localImageDir is the image cache every package's local tests share, so the debian-12 image is
// built once per machine (about 80 s), not once per test; see testenv.ImageDir.
var localImageDir = testenv.ImageDir()

// localEnv is a home, a config and a private local-provider state directory for one test.
type localEnv struct {
	t        testing.TB
	home     string
	config   string
	stateDir string
}

// newLocalEnv skips (saying exactly why) unless this machine can run local clusters: root,
// systemd-nspawn and debootstrap, which `make test` installs.
func newLocalEnv(t testing.TB, configText string) *localEnv {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("local clusters need root (systemd-nspawn, bridges, overlay mounts); CI runs `make test` as root")
	}
	for _, tool := range []string{"systemd-nspawn", "debootstrap", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is missing: `make test` installs systemd-container, debootstrap and iproute2", tool)
		}
	}
	e := &localEnv{t: t, home: newHome(t), stateDir: t.TempDir()}
	e.config = filepath.Join(e.home, "config.ini")
	if err := os.WriteFile(e.config, []byte(configText), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *localEnv) cli(args ...string) cliResult {
	e.t.Helper()
	streams, _, out, errOut := ui.TestStreams()
	code := runWith(context.Background(), append([]string{"--config", e.config}, args...), streams, func(a *app) {
		a.localStateDir, a.localImageDir = e.stateDir, localImageDir
	})
	return cliResult{code: code, out: out.String(), errOut: errOut.String()}
}

func (e *localEnv) must(args ...string) cliResult {
	e.t.Helper()
	r := e.cli(args...)
	if r.code != 0 {
		e.t.Fatalf("clusterctl %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.out, r.errOut)
	}
	return r
}

// on runs a shell command on a node (as the login user; prefix sudo for root) and returns its
// trimmed output, failing the test on a non-zero exit.
func (e *localEnv) on(tag, node, command string) string {
	e.t.Helper()
	return strings.TrimSpace(e.must("sshnode", tag, node, command).out)
}

// terminateAtEnd removes the cluster when the test ends, whatever happened.
func (e *localEnv) terminateAtEnd(tag string) {
	e.t.Cleanup(func() {
		if r := e.cli("terminate", "-y", tag); r.code != 0 && !strings.Contains(r.errOut+r.out, "nothing to terminate") {
			e.t.Logf("cleanup terminate %s: %s", tag, r.errOut)
		}
	})
}

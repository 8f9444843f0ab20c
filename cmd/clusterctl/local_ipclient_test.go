package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// systemPython is Debian's python3, where the install step puts python3-ipyparallel.
const systemPython = "/usr/bin/python3"

// TestLocalIPClusterClientHint follows the lines the ipcluster plugin prints, exactly as printed,
// with Debian's python3-ipyparallel on this machine: `clusterctl ssh-config` included from
// ~/.ssh/config (played by an ssh on PATH that reads it with -F), the shared connection the
// hint opens with `ssh -fN`, then the printed ipyparallel.Client line, whose SSH tunnels to
// TAG-master (verified against the pinned host key) reach the controller and the engines.
func TestLocalIPClusterClientHint(t *testing.T) {
	if out, err := exec.Command(systemPython, "-c", "import ipyparallel, pexpect").CombinedOutput(); err != nil {
		t.Skipf("Debian's python3-ipyparallel and python3-pexpect are missing (`make test` installs them): %v\n%s", err, out)
	}
	e := newLocalEnv(t, `[cluster ipc]
PROVIDER = local
CLUSTER_SIZE = 2
NODE_IMAGE_ID = debian-12
NODE_INSTANCE_TYPE = small
DISABLE_QUEUE = true
PLUGINS = ipcluster

[plugin ipcluster]
SETUP_CLASS = ipcluster
`)
	// A short home: ssh's control sockets live below it, and socket paths are short.
	short, err := os.MkdirTemp("/tmp", "cc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(short) })
	t.Setenv("HOME", short)
	e.home = short
	const tag = "ipc"
	e.terminateAtEnd(tag)
	r := e.must("start", "-c", "ipc", tag)
	hint := regexp.MustCompile("`ssh -fN ([^`]+)`, then (ipyparallel\\.Client\\(\"([^\"]+)\", sshserver=\"([^\"]+)\"\\))").FindStringSubmatch(r.errOut)
	if hint == nil {
		t.Fatalf("no client hint in start's output:\n%s", r.errOut)
	}
	if hint[1] != "clusteruser@ipc-master" || hint[4] != hint[1] {
		t.Errorf("the hint names %q and %q, want clusteruser@ipc-master", hint[1], hint[4])
	}
	sshConfig := filepath.Join(e.home, ".ssh", "clusterctl-"+tag)
	e.must("ssh-config", "-o", sshConfig, tag)

	// ~/.ssh/config with `Include` of the file: an ssh on PATH that reads it.
	bin := t.TempDir()
	wrapper := "#!/bin/sh\nexec /usr/bin/ssh -F " + sshConfig + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "ssh"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	open := exec.CommandContext(ctx, "ssh", "-fN", hint[1])
	open.Env, open.Path = env, filepath.Join(bin, "ssh")
	if out, err := open.CombinedOutput(); err != nil {
		t.Fatalf("ssh -fN %s: %v\n%s", hint[1], err, out)
	}
	t.Cleanup(func() {
		stop := exec.Command(filepath.Join(bin, "ssh"), "-O", "exit", hint[1])
		stop.Env = env
		_ = stop.Run()
	})
	py := "import ipyparallel as ipp\nc = ipp." + strings.TrimPrefix(hint[2], "ipyparallel.") + "\n" +
		"c.wait_for_engines(3, timeout=60)\nprint('engines', len(c.ids), sum(c[:].apply_sync(lambda: 1)))\nc.close()\n"
	cmd := exec.CommandContext(ctx, systemPython, "-c", py)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "engines 3 3") {
		t.Fatalf("the printed client line did not reach the engines: %v\n%s", err, out)
	}
	e.must("terminate", "-y", tag)
}

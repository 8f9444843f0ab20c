package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/ui"
)

// hostileTags are cluster tags that would escape ~/.clusterctl if joined into a path, or
// change a command line if spliced into one.
var hostileTags = []string{
	"../../.ssh/id_rsa", "..", ".", "../x", "a/b", "/etc/passwd", "-rf", "x;id", "$(id)", "a b",
	"x\ny", "tag\x00", strings.Repeat("a", 41),
}

// tagCommandArgs builds a command line for cmdPath (its Use line) with tag at every TAG
// position and harmless values elsewhere.
func tagCommandArgs(use, tag, dir string) []string {
	words := strings.Fields(flagGroupRE.ReplaceAllString(use, ""))
	args := []string{}
	for _, w := range words[1:] {
		switch strings.Trim(w, "[]") {
		case "TAG", "TAG...":
			args = append(args, tag)
		case "PLUGIN":
			args = append(args, "sge")
		case "NODE":
			args = append(args, "master")
		case "LOCAL...", "LOCAL", "DIR...", "DIR":
			args = append(args, dir)
		case "REMOTE...", "REMOTE":
			args = append(args, "/tmp/x")
		case "COMMAND...":
			args = append(args, "true")
		}
	}
	// "--" ends the flags, so a tag such as -rf reaches the command as a tag.
	return append([]string{words[0], "--"}, args...)
}

// TestHostileTagsRefusedByEveryCommand: every command that takes a cluster TAG refuses a tag
// that breaks the tag rule before using it: no provider is asked, no file under the home
// changes (terminate ../../.ssh/id_rsa once deleted ~/.ssh/id_rsa), and the message names
// the tag.
func TestHostileTagsRefusedByEveryCommand(t *testing.T) {
	home := newHome(t)
	planted := map[string][]byte{
		filepath.Join(home, ".ssh", "id_rsa"):                         []byte("private key\n"),
		filepath.Join(home, ".clusterctl", "known_hosts", "id_rsa"):   []byte("pinned\n"),
		filepath.Join(home, ".clusterctl", "keys", "x"):               []byte("cluster key\n"),
		filepath.Join(home, ".clusterctl", "balancer", "x", "pid"):    []byte("1\n"),
		filepath.Join(home, ".clusterctl", "known_hosts", "x", "..."): []byte("deep\n"),
	}
	for p, data := range planted {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	config := filepath.Join(home, "config")
	if err := os.WriteFile(config, []byte("[global]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var tagCommands []string
	for _, c := range allCommands(newRootCmd(&app{})) {
		if !strings.Contains(c.Use, "TAG") {
			continue
		}
		tagCommands = append(tagCommands, c.Use)
		for _, tag := range hostileTags {
			args := tagCommandArgs(c.Use, tag, home)
			streams, _, out, errOut := ui.TestStreams()
			asked := false
			code := runWith(context.Background(), append([]string{"--config", config}, args...), streams, func(a *app) {
				a.providerSeam = func(context.Context) (cloud.Provider, error) {
					asked = true
					return nil, os.ErrInvalid
				}
				a.localStateDir = filepath.Join(home, "local")
			})
			if code != exitUsage {
				t.Errorf("%q: exit %d, want %d (usage)\nstdout: %s\nstderr: %s", args, code, exitUsage, out, errOut)
			}
			if asked {
				t.Errorf("%q: a provider was asked before the tag was checked", args)
			}
			if !strings.Contains(errOut.String(), "cluster tag") {
				t.Errorf("%q: the message does not name the bad tag: %s", args, errOut)
			}
		}
	}
	if len(tagCommands) < 13 {
		t.Fatalf("found only %d commands taking TAG: %v", len(tagCommands), tagCommands)
	}
	for p, data := range planted {
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s changed or vanished: %q %v", p, got, err)
		}
	}
	if _, err := os.Stat(filepath.Join(home, "local")); err == nil {
		t.Errorf("the local provider's state directory was created")
	}
}

package main

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/ui"
)

// errNoCloud is what the provider of cliNoCloud answers: the command got past the config.
var errNoCloud = errors.New("no cloud in this test")

// cliNoCloud runs clusterctl with a provider that fails at once, for tests that only need to
// know whether a command got past its config.
func cliNoCloud(t testing.TB, args ...string) cliResult {
	t.Helper()
	streams, _, out, errOut := ui.TestStreams()
	code := runWith(context.Background(), args, streams, func(a *app) {
		a.providerSeam = func(context.Context) (cloud.Provider, error) { return nil, errNoCloud }
	})
	return cliResult{code: code, out: out.String(), errOut: errOut.String()}
}

// TestOnlyUsedSectionsStop runs the CLI on StarCluster configs from the wild: `config
// validate` fails only on errors, and for every template `config validate -c`, `config show
// -c` and `start -c` agree: a template fails for what it uses (and then with the same
// messages), never for other sections, and never loses a plugin silently.
func TestOnlyUsedSectionsStop(t *testing.T) {
	newHome(t)
	cases := []struct {
		file     string
		validate int
		ok, bad  []string
		messages []string
	}{
		{file: "starcluster-095-template.ini", validate: 0, ok: []string{"smallcluster"}},
		{file: "starcluster-093-template.ini", validate: 0, ok: []string{"smallcluster", "mediumcluster", "largecluster"}},
		{file: "starcluster-docs.ini", validate: exitConfig, ok: []string{"smallcluster"}, bad: []string{"mediumcluster"},
			messages: []string{"SETUP_CLASS myplug1.SetupClass is a Python plugin (class SetupClass of module myplug1)", "port it to a script plugin"}},
		{file: "research-group.ini", validate: exitConfig, ok: []string{"raw-ubuntu"}, bad: []string{"climate"},
			messages: []string{"StarCluster's Hadoop plugin, which clusterctl does not ship"}},
		{file: "pipeline-generated.ini", validate: exitConfig, ok: []string{"pipeline-user-plain"}, bad: []string{"pipeline-user-cluster"},
			messages: []string{"SETUP_CLASS automount.NfsShares is a Python plugin"}},
		{file: "offline-checks.ini", validate: exitConfig, ok: []string{"small"}, bad: []string{"big", "draft"},
			messages: []string{"NODE_IMAGE_ID is empty"}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			fixture, _ := filepath.Abs("../../testdata/configs/wild/" + c.file)
			r := cli(t, "-c", fixture, "config", "validate")
			if r.code != c.validate {
				t.Fatalf("config validate: exit %d, want %d\n%s", r.code, c.validate, r.errOut)
			}
			for _, m := range c.messages {
				if !strings.Contains(r.errOut, m) {
					t.Errorf("config validate lacks %q:\n%s", m, r.errOut)
				}
			}
			for _, name := range c.ok {
				if r := cli(t, "-c", fixture, "config", "validate", "-c", name); r.code != 0 {
					t.Errorf("validate -c %s: %+v", name, r)
				}
				if r := cli(t, "-c", fixture, "config", "show", "-c", name); r.code != 0 || !strings.Contains(r.out, "[cluster "+name+"]") {
					t.Errorf("show -c %s: %+v", name, r)
				}
				if r := cliNoCloud(t, "-c", fixture, "start", "-v", "-c", name, "x"); r.code == exitConfig || !strings.Contains(r.errOut, errNoCloud.Error()) {
					t.Errorf("start -c %s stopped on the config: %s", name, r.errOut)
				}
			}
			for _, name := range c.bad {
				v := cli(t, "-c", fixture, "config", "validate", "-c", name)
				s := cli(t, "-c", fixture, "config", "show", "-c", name)
				st := cliNoCloud(t, "-c", fixture, "start", "-c", name, "x")
				if v.code != exitConfig || s.code != exitConfig || st.code != exitConfig {
					t.Fatalf("template %s: validate %d, show %d, start %d; all must be %d", name, v.code, s.code, st.code, exitConfig)
				}
				errLines := func(text string) string {
					var out []string
					for _, l := range strings.Split(text, "\n") {
						if strings.Contains(l, " at ") && !strings.HasPrefix(l, "! ") {
							out = append(out, strings.TrimPrefix(strings.TrimPrefix(l, "Error: "), "  - "))
						}
					}
					return strings.Join(out, "\n")
				}
				if want := errLines(v.errOut); want == "" || errLines(s.errOut) != want || errLines(st.errOut) != want {
					t.Errorf("template %s: messages differ\nvalidate:\n%s\nshow:\n%s\nstart:\n%s", name, v.errOut, s.errOut, st.errOut)
				}
			}
		})
	}
}

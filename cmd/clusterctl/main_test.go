package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/ui"
)

// cli runs clusterctl in-process with HOME in a temp dir and no config variables, returning the
// exit status and both streams.
type cliResult struct {
	code        int
	out, errOut string
}

func newHome(t testing.TB) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("CLUSTERCTL_CONFIG", "")
	t.Setenv("STARCLUSTER_CONFIG", "")
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION_NAME"} {
		t.Setenv(k, "")
	}
	// Tests send traffic only to loopback: never probe the instance metadata service, and
	// send EC2 calls a test makes without moto to a closed loopback port.
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ENDPOINT_URL_EC2", "http://127.0.0.1:9")
	return home
}

func cli(t testing.TB, args ...string) cliResult {
	t.Helper()
	streams, _, out, errOut := ui.TestStreams()
	code := run(context.Background(), args, streams)
	return cliResult{code: code, out: out.String(), errOut: errOut.String()}
}

func TestVersionAndHelp(t *testing.T) {
	newHome(t)
	if r := cli(t, "--version"); r.code != 0 || !strings.Contains(r.out, "clusterctl dev") {
		t.Fatalf("--version: %+v", r)
	}
	r := cli(t, "config", "--help")
	if r.code != 0 || !strings.Contains(r.out, "validate") || !strings.Contains(r.out, "Examples:") && !strings.Contains(r.out, "Available Commands") {
		t.Fatalf("config --help: %+v", r)
	}
	if r := cli(t, "config"); r.code != exitUsage || !strings.Contains(r.errOut, "needs a subcommand") {
		t.Fatalf("config without subcommand: %+v", r)
	}
	if r := cli(t, "config", "validate", "--bogus"); r.code != exitUsage || !strings.Contains(r.errOut, "unknown flag: --bogus") {
		t.Fatalf("unknown flag: %+v", r)
	}
	if r := cli(t, "--output", "yaml", "config", "reference"); r.code != exitUsage || !strings.Contains(r.errOut, "yaml") {
		t.Fatalf("bad output format: %+v", r)
	}
}

// TestEveryCommandDocumented: every command has a summary, a long help and examples.
func TestEveryCommandDocumented(t *testing.T) {
	newHome(t)
	streams, _, _, _ := ui.TestStreams()
	root := newRootCmd(&app{streams: streams})
	for _, c := range allCommands(root) {
		if c.Hidden || c.Name() == "help" || strings.HasPrefix(c.CommandPath(), "clusterctl completion ") {
			continue
		}
		if c.Short == "" || c.Long == "" {
			t.Errorf("%s: missing Short or Long help", c.CommandPath())
		}
		if c.Runnable() && c.Example == "" && c.Name() != "completion" {
			t.Errorf("%s: no examples", c.CommandPath())
		}
	}
}

func TestConfigInitValidateShow(t *testing.T) {
	home := newHome(t)
	r := cli(t, "config", "init")
	path := filepath.Join(home, ".clusterctl", "config")
	if r.code != 0 || !strings.Contains(r.errOut, "✓ wrote config template to "+path) {
		t.Fatalf("init: %+v", r)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("config mode: %v %v", st, err)
	}
	if r := cli(t, "config", "init"); r.code != exitUsage || !strings.Contains(r.errOut, "already exists; pass --force") {
		t.Fatalf("second init must refuse: %+v", r)
	}
	if r := cli(t, "config", "init", "--force"); r.code != 0 {
		t.Fatalf("init --force: %+v", r)
	}
	r = cli(t, "config", "validate")
	if r.code != 0 || !strings.Contains(r.errOut, "is valid (1 template: smallcluster); still to fill in: KEY_LOCATION, NODE_IMAGE_ID") ||
		!strings.Contains(r.errOut, "! NODE_IMAGE_ID is still the example ami-0123456789abcdef0") {
		t.Fatalf("validate after init must name the placeholders: %+v", r)
	}
	r = cli(t, "config", "show", "-c", "smallcluster", "--set", "cluster_size=4")
	if r.code != 0 || !strings.Contains(r.out, "CLUSTER_SIZE") || !strings.Contains(r.out, "command line") {
		t.Fatalf("show: %+v", r)
	}
	r = cli(t, "config", "show", "-c", "smalcluster")
	if r.code != exitNotFound || !strings.Contains(r.errOut, "did you mean smallcluster?") {
		t.Fatalf("show unknown template: %+v", r)
	}
	other := filepath.Join(home, "project.cfg")
	if r := cli(t, "config", "init", other); r.code != 0 || !strings.Contains(r.errOut, "--config "+other) {
		t.Fatalf("init PATH: %+v", r)
	}
}

func TestNoConfig(t *testing.T) {
	home := newHome(t)
	r := cli(t, "config", "validate")
	if r.code != exitConfig {
		t.Fatalf("exit %d: %+v", r.code, r)
	}
	for _, want := range []string{filepath.Join(home, ".clusterctl", "config"), filepath.Join(home, ".starcluster", "config"), "clusterctl config init"} {
		if !strings.Contains(r.errOut, want) {
			t.Errorf("message lacks %q: %s", want, r.errOut)
		}
	}
}

func TestValidateInvalid(t *testing.T) {
	newHome(t)
	fixture, _ := filepath.Abs("../../testdata/configs/invalid/unknown-key.ini")
	r := cli(t, "--config", fixture, "config", "validate")
	if r.code != exitConfig || !strings.Contains(r.errOut, "unknown key NODE_INSTANCETYPE in [cluster smallcluster] at") ||
		!strings.Contains(r.errOut, "unknown-key.ini:13; did you mean NODE_INSTANCE_TYPE?") {
		t.Fatalf("%+v", r)
	}
	if strings.Contains(r.errOut, "The full log is in") {
		t.Errorf("a config error points at the log, which holds nothing more:\n%s", r.errOut)
	}
	r = cli(t, "--config", fixture, "--output", "json", "config", "validate")
	var res validateResult
	if err := json.Unmarshal([]byte(r.out), &res); err != nil || r.code != exitConfig {
		t.Fatalf("json: %v %+v", err, r)
	}
	if res.Valid || len(res.Problems) != 2 || res.Problems[0].Pos.Line != 13 || res.Problems[0].Key != "node_instancetype" {
		t.Fatalf("json result: %+v", res)
	}
}

// TestShowNeverPrintsSecrets: secrets from the file and the environment reach neither stdout,
// stderr nor the log file, in text or JSON, even with --debug.
func TestShowNeverPrintsSecrets(t *testing.T) {
	home := newHome(t)
	fixture, _ := filepath.Abs("../../testdata/configs/valid/starcluster.ini")
	t.Setenv("AWS_SESSION_TOKEN", "FQoGZXIvYXdzEXAMPLETOKENvalue123456")
	secrets := []string{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "FQoGZXIvYXdzEXAMPLETOKENvalue123456"}
	for _, args := range [][]string{
		{"--config", fixture, "config", "show", "-c", "mediumcluster"},
		{"--config", fixture, "--debug", "--output", "json", "config", "show"},
		{"--config", fixture, "config", "show", "-c", "smallcluster", "--set", "aws_secret_access_key=x"},
		{"--config", fixture, "config", "validate", "--output", "json"},
	} {
		r := cli(t, args...)
		logText, _ := os.ReadFile(filepath.Join(home, ".clusterctl", "logs", "clusterctl.log"))
		for _, s := range secrets {
			for name, text := range map[string]string{"stdout": r.out, "stderr": r.errOut, "log": string(logText)} {
				if strings.Contains(text, s) {
					t.Errorf("%v: %s shows secret %s", args, name, s)
				}
			}
		}
	}
	r := cli(t, "--config", fixture, "config", "show")
	if r.code != 0 || !strings.Contains(r.out, "AWS_SECRET_ACCESS_KEY") || !strings.Contains(r.out, "****") {
		t.Fatalf("show: %+v", r)
	}
}

func TestCompletion(t *testing.T) {
	newHome(t)
	fixture, _ := filepath.Abs("../../testdata/configs/valid/starcluster.ini")
	r := cli(t, "--config", fixture, "__complete", "config", "show", "-c", "")
	for _, name := range []string{"smallcluster", "mediumcluster", "largecluster"} {
		if !strings.Contains(r.out, name) {
			t.Errorf("completion lacks %s: %q", name, r.out)
		}
	}
	for _, shell := range []string{"bash", "zsh", "fish"} {
		if r := cli(t, "completion", shell); r.code != 0 || len(r.out) < 100 {
			t.Errorf("completion %s: %+v", shell, r.code)
		}
	}
}

func TestGlobalShorthands(t *testing.T) {
	cases := map[string]string{
		"-d config validate":                "--debug config validate",
		"--config x -d spothistory -d 3 m5": "--config x --debug spothistory -d 3 m5",
		"-r -d start x":                     "--region -d start x",
		"-r eu-west-1 start -r 10 x":        "--region eu-west-1 start -r 10 x",
		"-reu-west-1 lz":                    "--region=eu-west-1 lz",
		"spothistory -d 7 m5.large":         "spothistory -d 7 m5.large",
		"--output=json -d listclusters -d":  "--output=json --debug listclusters -d",
		"-c ~/sc start -c small tag":        "--config ~/sc start -c small tag",
		"-d -c f terminate -c x":            "--debug --config f terminate -c x",
		"-cf.ini listclusters":              "--config=f.ini listclusters",
		"--concurrency 4 -c f lc":           "--concurrency 4 --config f lc",
	}
	for in, want := range cases {
		if got := strings.Join(globalShorthands(strings.Fields(in)), " "); got != want {
			t.Errorf("%q -> %q, want %q", in, got, want)
		}
	}
}

// TestHelpGroups: --help sorts the commands by task (every command is in a group but help and
// completion) and indents every example, the root's included.
func TestHelpGroups(t *testing.T) {
	newHome(t)
	streams, _, _, _ := ui.TestStreams()
	root := newRootCmd(&app{streams: streams})
	for _, c := range root.Commands() {
		if c.GroupID == "" && c.Name() != "help" && c.Name() != "completion" {
			t.Errorf("%s is in no help group", c.Name())
		}
	}
	r := cli(t, "--help")
	for _, want := range []string{"Cluster lifecycle:\n", "Nodes:\n", "Access and files:\n", "Volumes and images:\n", "AWS resources:\n",
		"Local clusters:\n", "Configuration:\n", "Examples:\n  clusterctl config init\n"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("--help lacks %q:\n%s", want, r.out)
		}
	}
	for _, c := range allCommands(root) {
		for _, line := range strings.Split(c.Example, "\n") {
			if line != "" && !strings.HasPrefix(line, "  ") {
				t.Errorf("%s: example line %q is not indented", c.CommandPath(), line)
			}
		}
	}
}

package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/ui"
)

// cliLocalOnly runs clusterctl with a private, empty local-provider state, so only this test's
// clusters (none) can show up.
func cliLocalOnly(t *testing.T, args ...string) cliResult {
	t.Helper()
	state := t.TempDir()
	streams, _, out, errOut := ui.TestStreams()
	code := runWith(context.Background(), args, streams, func(a *app) { a.localStateDir = state })
	return cliResult{code: code, out: out.String(), errOut: errOut.String()}
}

// TestFirstRunWithoutCredentials: on a machine without any AWS credentials, every command that
// needs EC2 says so once, with the three ways to provide them and that local clusters need
// none; listings cover the local clusters and say EC2 was not asked instead of claiming there
// are no clusters; the SDK's own lines go to the debug log only.
func TestFirstRunWithoutCredentials(t *testing.T) {
	home := newHome(t)
	explain := []string{"no AWS credentials found", "1. the config file's [aws info]", "2. the environment",
		"3. the AWS CLI's files: `aws configure`", "Local clusters (PROVIDER = local) need no credentials"}
	cases := []struct {
		args []string
		code int
		want []string
		not  []string
	}{
		{[]string{"listclusters"}, 0, append(explain, "No local clusters (EC2 was not asked)."), []string{"No clusters."}},
		{[]string{"sshmaster", "x"}, exitNotFound, append(explain, "this machine has no local cluster x, and EC2 was not asked"), []string{"no clusters exist", "no cluster \"x\""}},
		{[]string{"listclusters", "x"}, exitNotFound, append(explain, "this machine has no local cluster x, and EC2 was not asked"), []string{"No clusters."}},
		{[]string{"listzones"}, exitConfig, explain, nil},
		{[]string{"terminate", "-y", "gone"}, exitNotFound, explain, nil},
	}
	for _, c := range cases {
		r := cliLocalOnly(t, c.args...)
		if r.code != c.code {
			t.Errorf("%v: exit %d, want %d\n%s", c.args, r.code, c.code, r.errOut)
		}
		for _, w := range c.want {
			if !strings.Contains(r.errOut, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", c.args, w, r.errOut)
			}
		}
		for _, n := range append(c.not, "WARN", "operation error", "failed to refresh cached credentials") {
			if strings.Contains(r.errOut, n) {
				t.Errorf("%v: stderr has %q:\n%s", c.args, n, r.errOut)
			}
		}
		if strings.Count(r.errOut, "no AWS credentials found") != 1 {
			t.Errorf("%v: the explanation is not given exactly once:\n%s", c.args, r.errOut)
		}
	}
	if r := cliLocalOnly(t, "listzones"); !strings.Contains(r.errOut, "The full log is in "+filepath.Join(home, ".clusterctl", "logs")) {
		t.Errorf("the log holds the SDK's reason, but the failure does not point at it:\n%s", r.errOut)
	}
	if r := cliLocalOnly(t, "--output", "json", "listclusters"); r.code != 0 || strings.TrimSpace(r.out) != "[]" {
		t.Errorf("listclusters --output json: %+v", r)
	}
	logText, _ := os.ReadFile(filepath.Join(home, ".clusterctl", "logs", "clusterctl.log"))
	if !strings.Contains(string(logText), "the AWS SDK found no credentials") {
		t.Errorf("the SDK's reason is not in the debug log")
	}
}

// TestIMDSProbeBounded: on a machine where the instance metadata address answers strangely (a
// loopback server here: 404 to the IMDSv2 token request, as some networks' proxies do, and no
// answer at all to the metadata request), the credential probe gives up within about two
// seconds instead of the SDK's retries of five-second calls, and the SDK's "falling back to
// IMDSv1" warning reaches the debug log, not the terminal.
func TestIMDSProbeBounded(t *testing.T) {
	home := newHome(t)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			http.NotFound(w, r)
			return
		}
		select { // swallow the request
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "false")
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", srv.URL)
	began := time.Now()
	r := cliLocalOnly(t, "listzones")
	took := time.Since(began)
	if r.code != exitConfig || !strings.Contains(r.errOut, "no AWS credentials found") {
		t.Fatalf("listzones: %+v", r)
	}
	// A correctness bound, not a benchmark: the SDK's own client retries the swallowed
	// request until its 5-second operation timeout.
	if took > 3*time.Second {
		t.Errorf("the probe took %s; it must give up within about two seconds", took)
	}
	logText, _ := os.ReadFile(filepath.Join(home, ".clusterctl", "logs", "clusterctl.log"))
	if !strings.Contains(string(logText), "falling back to IMDSv1") || strings.Contains(r.errOut, "IMDSv1") {
		t.Errorf("the SDK's IMDS warning: in the log %v, on the terminal %v", strings.Contains(string(logText), "IMDSv1"), strings.Contains(r.errOut, "IMDSv1"))
	}
}

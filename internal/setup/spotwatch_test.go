package setup

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud/ec2/cloudinittest"
)

// TestSpotWatcher runs the watcher spot nodes run against a fake metadata service. It polls
// with a token and never without; a revoked token makes it fetch another; no notice, no drain;
// once the notice appears the drain command runs, and only once however often it polls after;
// a drain command that fails is run again until it succeeds.
func TestSpotWatcher(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is missing: `make test` installs it (python3-yaml depends on it)")
	}
	for _, tc := range []struct {
		name       string
		failsFirst int // the drain command fails this many times first
	}{{"drain succeeds", 0}, {"drain fails twice", 2}} {
		t.Run(tc.name, func(t *testing.T) {
			imds := &cloudinittest.IMDS{}
			srv := httptest.NewServer(imds)
			defer srv.Close()
			dir := t.TempDir()
			drained := filepath.Join(dir, "drained")
			tries := filepath.Join(dir, "tries")
			drain := `echo x >> ` + tries + `; [ $(wc -l < ` + tries + `) -gt ` + fmt.Sprint(tc.failsFirst) + ` ] || exit 1; echo drained >> ` + drained
			conf, _ := json.Marshal(map[string]any{"metadata": srv.URL, "interval": 0.05, "drain": drain,
				"notice_file": filepath.Join(dir, "notice")})
			confPath := filepath.Join(dir, "spot-watch.json")
			script := filepath.Join(dir, "clusterctl-spot-watch")
			if err := os.WriteFile(confPath, conf, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(script, []byte(spotWatchScript), 0o700); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("python3", script, confPath)
			out := &lockedBuffer{}
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

			const poll, tokens = "GET /latest/meta-data/spot/instance-action", "PUT /latest/api/token OK"
			waitUntil(t, "five polls without a notice", func() bool { return imds.Count(poll+" Not Found") >= 5 })
			imds.RevokeTokens()
			waitUntil(t, "a new token after the old one was refused", func() bool {
				return imds.Count(tokens) >= 2 && imds.Count(poll+" Unauthorized") == 1 && imds.Count(poll+" Not Found") >= 7
			})
			if _, err := os.Stat(drained); !os.IsNotExist(err) {
				t.Fatalf("drained without a notice: %v", err)
			}
			imds.Set("spot/instance-action", `{"action": "terminate", "time": "2026-11-29T21:00:00Z"}`, true)
			waitUntil(t, "the drain after the notice", func() bool { _, err := os.Stat(drained); return err == nil })
			polls := imds.Count(poll + " OK")
			waitUntil(t, "more polls after the drain", func() bool { return imds.Count(poll+" OK") >= polls+5 })

			data, _ := os.ReadFile(drained)
			if n := strings.Count(string(data), "drained"); n != 1 {
				t.Errorf("drained %d times, want once", n)
			}
			attempts, _ := os.ReadFile(tries)
			if n := strings.Count(string(attempts), "x"); n != tc.failsFirst+1 {
				t.Errorf("drain command ran %d times, want %d", n, tc.failsFirst+1)
			}
			if n := imds.Count(poll + " Unauthorized"); n != 1 {
				t.Errorf("%d requests refused for their token, want the one after the revocation (none without a token: IMDSv2 only)", n)
			}
			if notice, _ := os.ReadFile(filepath.Join(dir, "notice")); !strings.Contains(string(notice), `"action": "terminate"`) {
				t.Errorf("notice recorded: %q", notice)
			}
			if !strings.Contains(out.String(), "spot interruption notice") || !strings.Contains(out.String(), "drained this node") {
				t.Errorf("watcher's log:\n%s", out.String())
			}
		})
	}
}

// TestSpotWatchInstallScript: the install script carries the watcher and its settings
// whole, and (re)starts the unit only when something changed or it is not running.
func TestSpotWatchInstallScript(t *testing.T) {
	s := spotWatchInstallScript(`{"drain": "qmod -d \"all.q@$(hostname)\""}`)
	for _, want := range []string{spotWatchScript, `qmod -d \"all.q@$(hostname)\"`, "ExecStart=/usr/bin/python3 " + spotWatchBin + " " + spotWatchConf,
		`if [ -n "$changed" ]; then`, "systemctl is-active --quiet clusterctl-spot-watch"} {
		if !strings.Contains(s, want) {
			t.Errorf("install script lacks %q", want)
		}
	}
	if out, err := exec.Command("sh", "-n", "-c", s).CombinedOutput(); err != nil {
		t.Errorf("install script does not parse: %v\n%s", err, out)
	}
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
	}
}

// lockedBuffer is an output buffer safe for a process's writes and the test's reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

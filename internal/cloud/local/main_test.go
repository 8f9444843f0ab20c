package local

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/testenv"
)

// testImageDir is the image cache the package's tests share with the other packages' tests (see
// testenv.ImageDir), so repeated runs and CI reuse one build while the definition's hash matches.
var testImageDir = testenv.ImageDir()

// testImage is the image every real test boots.
const testImage = "debian-12"

// sharedImage builds (or finds cached) the test image once per test binary; every real test
// waits for it. Progress goes to stderr so a first build on CI is visibly alive. The cache is the
// tests' own, so no real cluster on this machine boots from it.
var sharedImage = sync.OnceValues(func() (time.Duration, error) {
	p, err := New(Options{StateDir: filepath.Join(filepath.Dir(testImageDir), "state"), ImageDir: testImageDir,
		Progress: func(msg string) { fmt.Fprintln(os.Stderr, "image:", msg) }})
	if err != nil {
		return 0, err
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	err = p.EnsureImage(ctx, testImage)
	return time.Since(start), err
})

// requireHost skips a test that needs what a real container needs, saying exactly what is
// missing; `make test` runs as root and installs the tools first.
func requireHost(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run systemd-nspawn containers (make test runs as root)")
	}
	if err := requireTools("systemd-nspawn", "debootstrap", "ip"); err != nil {
		t.Skipf("%v (make test installs them)", err)
	}
}

// newRealProvider returns a provider with a private state directory and the shared image
// cache, the image built.
func newRealProvider(t testing.TB) *Provider {
	t.Helper()
	requireHost(t)
	took, err := sharedImage()
	if err != nil {
		t.Fatalf("build the test image: %v", err)
	}
	if took > time.Second {
		t.Logf("image %s ready after %s", testImage, took.Round(time.Second))
	}
	p, err := New(Options{StateDir: t.TempDir(), ImageDir: testImageDir, Log: testLogger(t), PollInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// testLogger sends the provider's log (every command, at debug) to the test's log. Lines that
// come after the test ended (a container's reaper goroutine noticing its exit) are dropped:
// t.Log would panic then.
func testLogger(t testing.TB) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() { // registered before the test's cluster cleanups, so it runs after them
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct {
	t    testing.TB
	mu   sync.Mutex
	done bool
}

func (w *testWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	// Benchmarks print every log line, so they only keep their own figures.
	if _, bench := w.t.(*testing.B); !w.done && !bench {
		w.t.Log(strings.TrimRight(string(b), "\n"))
	}
	return len(b), nil
}

func TestImageBuilt(t *testing.T) {
	p := newRealProvider(t)
	imgs, err := p.Images()
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 1 || !imgs[0].Exists || !imgs[0].Current {
		t.Fatalf("images after EnsureImage: %+v", imgs)
	}
	for _, f := range []string{"etc/sudoers.d/admin", "usr/bin/qconf", "usr/sbin/sshd", "usr/bin/Xvfb", "usr/bin/tmux"} {
		if _, err := os.Stat(imgs[0].Path + "/" + f); err != nil {
			t.Errorf("image lacks %s: %v", f, err)
		}
	}
	keys, _ := os.ReadDir(imgs[0].Path + "/etc/ssh")
	for _, k := range keys {
		if len(k.Name()) > 9 && k.Name()[:9] == "ssh_host_" {
			t.Errorf("image keeps its own host key %s; each instance must get its own", k.Name())
		}
	}
}

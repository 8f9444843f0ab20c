package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/config"
)

// loadWithin loads path and fails the test when the load takes longer than a few seconds,
// which is how a FIFO or an endless include would show.
func loadWithin(t *testing.T, path string) (*config.Config, error) {
	t.Helper()
	type result struct {
		cfg *config.Config
		err error
	}
	done := make(chan result, 1)
	go func() {
		cfg, err := load(t, path, nil)
		done <- result{cfg, err}
	}()
	select {
	case r := <-done:
		return r.cfg, r.err
	case <-time.After(10 * time.Second):
		t.Fatalf("loading %s did not finish in 10 s", path)
		return nil, nil
	}
}

// TestHostileIncludes: includes that are not regular config files (a FIFO that would block
// the read forever, an endless device, a directory, an oversized file) are problems naming
// the include, found quickly; the same goes for the main config.
func TestHostileIncludes(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.ini")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.ini")
	if err := os.WriteFile(big, []byte("[global]\n; "+strings.Repeat("x", 2<<20)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.ini")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		include, want string
	}{
		{"fifo.ini", "fifo.ini: it is a FIFO, not a regular file"},
		{"/dev/zero", "/dev/zero: it is a character device, not a regular file"},
		{"zero.ini", "zero.ini: it is a character device, not a regular file"},
		{"big.ini", "more than a config file may (1024 KB)"},
		{".", "it is a directory, not a regular file"},
	} {
		main := filepath.Join(dir, "config")
		if err := os.WriteFile(main, []byte("[global]\nINCLUDE = "+tc.include+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := loadWithin(t, main)
		var probs config.Problems
		if !errors.As(err, &probs) || len(probs) != 1 {
			t.Errorf("include %s: want one problem, got %v", tc.include, err)
			continue
		}
		if p := probs[0]; !strings.Contains(p.Msg, tc.want) || p.Key != "include" || p.Pos.Line != 2 {
			t.Errorf("include %s: problem %+v, want %q at line 2 of key include", tc.include, p, tc.want)
		}
	}
	for _, main := range []string{fifo, big} {
		if _, err := loadWithin(t, main); err == nil || !strings.Contains(err.Error(), "config "+main) {
			t.Errorf("main config %s: want an error naming it, got %v", main, err)
		}
	}
}

// TestInterpolationBounds: references that form a cycle, nest deeper than ConfigParser allows
// or grow without bound are problems at the key, not a crash; ordinary references still work.
func TestInterpolationBounds(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config")
	text := `[cluster ok]
PROVIDER = local
CLUSTER_SIZE = 1
NODE_IMAGE_ID = debian-12
NODE_INSTANCE_TYPE = %(node_image_id)s-x
MASTER_INSTANCE_TYPE = %(node_instance_type)s

[cluster loop]
PROVIDER = local
CLUSTER_SIZE = %(cluster_size)s
`
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadWithin(t, path)
	if err != nil {
		t.Fatalf("problems in templates stop only those templates, yet Load failed: %v", err)
	}
	probs := cfg.Check("").Errors
	found := false
	for _, p := range probs {
		if p.Section == "cluster ok" {
			t.Errorf("unexpected problem in the ordinary template: %v", p)
		}
		if strings.Contains(p.Msg, "interpolation cycle: %(cluster_size)s -> %(cluster_size)s") && p.Pos.Line == 10 {
			found = true
		}
	}
	if !found {
		t.Errorf("the self reference is not reported at its line: %v", probs)
	}
	tpl := cfg.Clusters["ok"]
	if tpl == nil || tpl.MasterInstanceType != "debian-12-x" {
		t.Errorf("ordinary references: %+v", tpl)
	}
}

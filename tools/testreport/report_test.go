package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunRealGoTest runs `go test -json` on a fixture package whose outcome FIXTURE_MODE
// chooses, and checks the exit status, the summary line and what is printed for each outcome.
func TestRunRealGoTest(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go is needed to run the fixture package: %v", err)
	}
	allowed := filepath.Join(t.TempDir(), "allowed-skips")
	if err := os.WriteFile(allowed, []byte("# reasons\nfixture TestMaySkip this machine has no such thing\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		mode     string
		allowed  string
		wantCode int
		wantLast string
		want     []string
	}{
		{name: "green", mode: "", wantCode: 0, wantLast: "6 passed, 0 failed, 0 skipped"},
		{name: "failure", mode: "fail", wantCode: 1, wantLast: "5 passed, 1 failed, 0 skipped",
			want: []string{"--- FAIL: fixture TestMayFail", "the value was 3, want 4", "FAIL  fixture"}},
		{name: "unlisted skip fails the run", mode: "skip", wantCode: 1, wantLast: "5 passed, 0 failed, 1 skipped",
			want: []string{"--- SKIP: fixture TestMaySkip: fixture_test.go:21: needs a machine this one is not",
				"1 tests skipped that are not listed as allowed to skip",
				"  fixture TestMaySkip: fixture_test.go:21: needs a machine"}},
		{name: "listed skip is green", mode: "skip", allowed: allowed, wantCode: 0, wantLast: "5 passed, 0 failed, 1 skipped",
			want: []string{"--- SKIP (allowed: this machine has no such thing): fixture TestMaySkip"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("FIXTURE_MODE", tt.mode)
			var out, errOut bytes.Buffer
			args := []string{"-heartbeat", "0"}
			if tt.allowed != "" {
				args = append(args, "-allowed", tt.allowed)
			}
			args = append(args, "--", goBin, "-C", "testdata/fixture", "test", "-json", "-count=1", "./...")
			code := run(args, &out, &errOut)
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if code != tt.wantCode || lines[len(lines)-1] != tt.wantLast {
				t.Fatalf("exit %d, last line %q; want %d, %q\nstdout:\n%s\nstderr:\n%s",
					code, lines[len(lines)-1], tt.wantCode, tt.wantLast, out.String(), errOut.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

// TestReportStreams feeds recorded event streams for what a live run rarely shows: a package
// that does not build, and a test still running when its binary died.
func TestReportStreams(t *testing.T) {
	tests := []struct {
		file     string
		wantOK   bool
		wantLast string
		want     []string
	}{
		{file: "build-fail.json", wantLast: "1 passed, 1 failed, 0 skipped",
			want: []string{"FAIL  internal/broken", "undefined: missing"}},
		{file: "panic.json", wantLast: "0 passed, 1 failed, 0 skipped",
			want: []string{"--- FAIL (did not finish): internal/crash TestBoom", "panic: boom"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var out bytes.Buffer
			r := newReport(&out, nil)
			if err := r.read(f); err != nil {
				t.Fatal(err)
			}
			ok := r.finish()
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if ok != tt.wantOK || lines[len(lines)-1] != tt.wantLast {
				t.Fatalf("ok %v, last line %q; want %v, %q\n%s", ok, lines[len(lines)-1], tt.wantOK, tt.wantLast, out.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestReadAllowList(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("internal/remote TestX\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readAllowList(bad); err == nil || !strings.Contains(err.Error(), "bad:1: want `PACKAGE TEST REASON`") {
		t.Fatalf("a line without a reason: err %v", err)
	}
	l := allowList{"internal/remote TestX": "why"}
	for _, tt := range []struct {
		pkg, test string
		want      bool
	}{
		{"github.com/clusterctl/clusterctl/internal/remote", "TestX", true},
		{"github.com/clusterctl/clusterctl/internal/remote", "TestY", false},
		{"github.com/clusterctl/clusterctl/xinternal/remote", "TestX", false},
	} {
		if _, got := l.allows(tt.pkg, tt.test); got != tt.want {
			t.Errorf("allows(%s, %s) = %v", tt.pkg, tt.test, got)
		}
	}
}

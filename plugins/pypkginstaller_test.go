package plugins

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPipCommandLine(t *testing.T) {
	cases := []struct {
		name, command string
		packages      []string
		want          string
	}{
		{"default", defaultPipCommand, []string{"numpy", "pandas"}, "pip install numpy pandas"},
		{"empty command means the default", " ", []string{"numpy"}, "pip install numpy"},
		{"placeholder in the middle", "pip3 install %s --no-deps", []string{"a"}, "pip3 install a --no-deps"},
		{"no placeholder appends", "/opt/venv/bin/pip install", []string{"a"}, "/opt/venv/bin/pip install a"},
		{"specifiers are quoted", defaultPipCommand, []string{"numpy>=1.20", "x[extra]"}, "pip install 'numpy>=1.20' 'x[extra]'"},
	}
	for _, tc := range cases {
		if got := pipCommandLine(tc.command, tc.packages); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestPipScript runs the script against a fake pip that behaves like Debian 12's: it refuses
// with externally-managed-environment unless PIP_BREAK_SYSTEM_PACKAGES=1, which the script
// sets on the retry; other failures are not retried.
func TestPipScript(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "pip")
	log := filepath.Join(dir, "calls")
	err := os.WriteFile(fake, []byte(`#!/bin/sh
echo "$PIP_BREAK_SYSTEM_PACKAGES $*" >> `+log+`
case "$*" in *broken*) echo "ERROR: No matching distribution found for broken" >&2; exit 1 ;; esac
if [ "$PIP_BREAK_SYSTEM_PACKAGES" != 1 ]; then echo "error: externally-managed-environment" >&2; exit 1; fi
echo "Successfully installed $*"
`), 0o755)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		packages []string
		ok       bool
		calls    string
	}{
		{"managed environment is retried with the override", []string{"numpy"}, true, " install numpy\n1 install numpy\n"},
		{"other failures are not retried", []string{"broken"}, false, " install broken\n"},
	}
	for _, tc := range cases {
		os.Remove(log)
		script := pipScript(fake+" install %s", tc.packages)
		checkSyntax(t, tc.name, script)
		out, err := runShErr(dir, script)
		if (err == nil) != tc.ok {
			t.Errorf("%s: error %v, want ok=%v\n%s", tc.name, err, tc.ok, out)
		}
		calls, _ := os.ReadFile(log)
		if string(calls) != tc.calls {
			t.Errorf("%s: pip called as %q, want %q", tc.name, calls, tc.calls)
		}
		if !tc.ok && !strings.Contains(out, "No matching distribution") {
			t.Errorf("%s: pip's message is not shown:\n%s", tc.name, out)
		}
	}
}

func TestPyPkgInstallerParams(t *testing.T) {
	p := newPyPkgInstaller(Params{"packages": []any{"numpy", "scipy"}})
	if p.command != defaultPipCommand || len(p.packages) != 2 || p.Name() != "pypkginstaller" {
		t.Errorf("got %+v", p)
	}
}

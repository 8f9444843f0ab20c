package ui

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultLogPath(t *testing.T) {
	if got, want := DefaultLogPath("/home/ann"), "/home/ann/.clusterctl/logs/clusterctl.log"; got != want {
		t.Errorf("DefaultLogPath = %q, want %q", got, want)
	}
}

func TestOpenLog(t *testing.T) {
	path := DefaultLogPath(t.TempDir())
	args := []string{"clusterctl", "start", "--password", "hunter22", "--token=abcdef123", "-c", "dev"}
	l, err := OpenLog(path, args)
	if err != nil {
		t.Fatalf("OpenLog: %v", err)
	}
	if l.Path() != path {
		t.Errorf("Path() = %q, want %q", l.Path(), path)
	}
	l.Logger().Debug("describe instances", "count", 3)
	if _, err := io.WriteString(l.Writer(), "raw ssh output\n"); err != nil {
		t.Fatalf("write raw: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := string(data)
	for _, want := range []string{
		"=== session start time=",
		fmt.Sprintf(" pid=%d ", os.Getpid()),
		`args=["clusterctl" "start" "--password" "****" "--token=****" "-c" "dev"]`,
		`level=DEBUG msg="describe instances" count=3`,
		"raw ssh output\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("log does not contain %q:\n%s", want, got)
		}
	}
	for _, secret := range []string{"hunter22", "abcdef123"} {
		if strings.Contains(got, secret) {
			t.Errorf("log leaks %q:\n%s", secret, got)
		}
	}
	assertMode(t, path, 0o600)
	assertMode(t, filepath.Dir(path), 0o700|os.ModeDir)

	if l.file.MaxSize != 10 || l.file.MaxBackups != 5 || l.file.Compress {
		t.Errorf("rotation = %d MB, %d backups, compress %v; want 10, 5, false",
			l.file.MaxSize, l.file.MaxBackups, l.file.Compress)
	}
}

func TestOpenLogAppendsAndTightensMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clusterctl.log")
	if err := os.WriteFile(path, []byte("old session\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		l, err := OpenLog(path, []string{"clusterctl"})
		if err != nil {
			t.Fatalf("OpenLog: %v", err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "old session\n") || strings.Count(string(data), "=== session start") != 2 {
		t.Errorf("log = %q, want the old content followed by two session headers", data)
	}
	assertMode(t, path, 0o600)
}

func TestOpenLogErrors(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		want string
	}{
		{"parent is a file", filepath.Join(blocker, "logs", "x.log"), "create log directory: "},
		{"path is a directory", dir, "open log: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := OpenLog(tt.path, nil)
			if err == nil {
				_ = l.Close()
				t.Fatal("OpenLog succeeded")
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error = %q, want prefix %q", err, tt.want)
			}
		})
	}
}

func TestRedactArgs(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
	}{
		{[]string{"start", "--secret", "x", "--name", "y"}, []string{"start", "--secret", Mask, "--name", "y"}},
		{[]string{"--db-password", "p", "--password=inline"}, []string{"--db-password", Mask, "--password=inline"}},
		{[]string{"-token", "t", "--key", "mykey"}, []string{"-token", Mask, "--key", "mykey"}},
		{[]string{"--secret"}, []string{"--secret"}},
		{nil, []string{}},
	}
	for _, tt := range tests {
		if got := redactArgs(tt.in); strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
			t.Errorf("redactArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode(); got != want {
		t.Errorf("mode of %s = %v, want %v", path, got, want)
	}
}

package remote_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/remote/sshtest"
)

// treeFile describes one entry of a test tree.
type treeFile struct {
	path    string
	mode    os.FileMode
	content string // "->target" makes a symlink; "/" suffix on path makes a directory
}

// sampleTree has the cases a tree copy must keep: nested directories with unusual modes,
// private and executable files, an empty file and a symlink.
func sampleTree() []treeFile {
	return []treeFile{
		{path: "conf/", mode: 0o750},
		{path: "conf/app.ini", mode: 0o640, content: "[main]\nx=1\n"},
		{path: "conf/secret.key", mode: 0o600, content: "not really a key"},
		{path: "bin/", mode: 0o755},
		{path: "bin/run.sh", mode: 0o755, content: "#!/bin/sh\necho run\n"},
		{path: "bin/current", content: "->run.sh"},
		{path: "empty", mode: 0o644},
		{path: "readonly/", mode: 0o555},
		{path: "readonly/inside.txt", mode: 0o444, content: "frozen"},
	}
}

// makeTree writes files under root.
func makeTree(t *testing.T, root string, files []treeFile) {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(root, strings.TrimSuffix(f.path, "/"))
		switch {
		case strings.HasSuffix(f.path, "/"):
			if err := os.MkdirAll(p, 0o700); err != nil {
				t.Fatal(err)
			}
		case strings.HasPrefix(f.content, "->"):
			if err := os.Symlink(strings.TrimPrefix(f.content, "->"), p); err != nil {
				t.Fatal(err)
			}
		default:
			if err := os.WriteFile(p, []byte(f.content), f.mode); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Directory modes last, so read-only directories could still be filled.
	for i := len(files) - 1; i >= 0; i-- {
		if f := files[i]; strings.HasSuffix(f.path, "/") {
			if err := os.Chmod(filepath.Join(root, f.path), f.mode); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// describeTree lists every entry under root with its mode and content or link target.
func describeTree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		line := rel + " " + info.Mode().String()
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			line += " -> " + target
		case info.Mode().IsRegular():
			data, _ := os.ReadFile(p)
			line += " " + string(data)
		}
		out = append(out, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func TestPutAndGetTrees(t *testing.T) {
	e := newEnv(t)
	s := e.server(t, sshtest.Config{})
	c := e.connect(t, target("node001", s.Addr))

	local := writableTempDir(t)
	makeTree(t, filepath.Join(local, "site"), append([]treeFile{{path: "/", mode: 0o755}}, sampleTree()...))
	want := describeTree(t, filepath.Join(local, "site"))

	remoteRoot := writableTempDir(t) // the in-process server serves the local file system
	var mu sync.Mutex
	var last, total int64
	progress := func(done, tot int64) {
		mu.Lock()
		defer mu.Unlock()
		if done < last {
			t.Errorf("progress went backwards: %d after %d", done, last)
		}
		last, total = done, tot
	}
	// Put into an existing directory lands inside it, as scp -r does.
	if err := c.Put(t.Context(), []string{filepath.Join(local, "site")}, remoteRoot,
		remote.TransferOpts{Progress: progress}); err != nil {
		t.Fatal(err)
	}
	if got := describeTree(t, filepath.Join(remoteRoot, "site")); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("remote tree:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if last != total || total == 0 {
		t.Errorf("progress ended at %d/%d", last, total)
	}

	tests := []struct {
		name     string
		patterns []string
		dest     string
		check    func(t *testing.T, dest string)
	}{
		{
			name:     "glob into a new directory",
			patterns: []string{filepath.Join(remoteRoot, "site", "[bc]*")},
			dest:     "out/",
			check: func(t *testing.T, dest string) {
				got := describeTree(t, dest)
				var wantSub []string
				for _, l := range want {
					if strings.HasPrefix(l, "bin") || strings.HasPrefix(l, "conf") {
						wantSub = append(wantSub, l)
					}
				}
				if strings.Join(got, "\n") != strings.Join(wantSub, "\n") {
					t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantSub, "\n"))
				}
			},
		},
		{
			name:     "single file renamed",
			patterns: []string{filepath.Join(remoteRoot, "site", "conf", "secret.key")},
			dest:     "copy.key",
			check: func(t *testing.T, dest string) {
				st, err := os.Stat(dest)
				if err != nil || st.Mode().Perm() != 0o600 || string(mustRead(t, dest)) != "not really a key" {
					t.Errorf("copy.key: %v %v", st, err)
				}
			},
		},
		{
			name:     "whole tree",
			patterns: []string{filepath.Join(remoteRoot, "site")},
			dest:     "tree",
			check: func(t *testing.T, dest string) {
				if got := describeTree(t, dest); strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dest := filepath.Join(writableTempDir(t), tt.dest)
			if strings.HasSuffix(tt.dest, "/") {
				dest += "/"
			}
			if err := c.Get(t.Context(), tt.patterns, dest, remote.TransferOpts{}); err != nil {
				t.Fatal(err)
			}
			tt.check(t, strings.TrimSuffix(dest, "/"))
		})
	}
	if err := c.Get(t.Context(), []string{filepath.Join(remoteRoot, "nomatch*")}, t.TempDir(),
		remote.TransferOpts{}); err == nil || !strings.Contains(err.Error(), "no remote files match") {
		t.Errorf("glob without matches: %v", err)
	}
}

// writableTempDir is t.TempDir that makes its read-only directories writable again before
// removal, so cleanup works for non-root users too.
func writableTempDir(t *testing.T) string {
	dir := t.TempDir()
	t.Cleanup(func() {
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				_ = os.Chmod(p, 0o755)
			}
			return nil
		})
	})
	return dir
}

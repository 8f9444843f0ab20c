package remote_test

import (
	"bytes"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkg/sftp"

	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/remote/sshtest"
)

// hostileEntry is one entry a hostile SFTP server reports: a file, a directory (with the names
// it lists, which may be anything) or a symlink.
type hostileEntry struct {
	dir      []string
	data     string
	link     string
	infinite bool // a directory that lists a directory "d" below itself, forever
}

// hostileFS serves made-up trees: the names, links and depths a node's user (or a subverted
// sftp-server) can make a client see.
type hostileFS struct {
	mu      sync.Mutex
	entries map[string]hostileEntry
}

type fakeInfo struct {
	name string
	mode os.FileMode
	size int64
}

func (f fakeInfo) Name() string       { return f.name }
func (f fakeInfo) Size() int64        { return f.size }
func (f fakeInfo) Mode() os.FileMode  { return f.mode }
func (f fakeInfo) ModTime() time.Time { return time.Unix(0, 0) }
func (f fakeInfo) IsDir() bool        { return f.mode.IsDir() }
func (f fakeInfo) Sys() any           { return nil }

type listing []os.FileInfo

func (l listing) ListAt(out []os.FileInfo, off int64) (int, error) {
	if off >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(out, l[off:])
	if int(off)+n == len(l) {
		return n, io.EOF
	}
	return n, nil
}

func (h *hostileFS) lookup(p string) (hostileEntry, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e, ok := h.entries[p]; ok {
		return e, true
	}
	for dir := path.Dir(p); dir != "/" && dir != "."; dir = path.Dir(dir) {
		if e, ok := h.entries[dir]; ok && e.infinite {
			return e, true
		}
	}
	return hostileEntry{}, false
}

func (h *hostileFS) info(p string) (fakeInfo, bool) {
	e, ok := h.lookup(p)
	switch {
	case !ok:
		return fakeInfo{}, false
	case e.link != "":
		return fakeInfo{name: path.Base(p), mode: os.ModeSymlink | 0o777}, true
	case e.dir != nil || e.infinite:
		return fakeInfo{name: path.Base(p), mode: os.ModeDir | 0o755}, true
	}
	return fakeInfo{name: path.Base(p), mode: 0o644, size: int64(len(e.data))}, true
}

func (h *hostileFS) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	if e, ok := h.lookup(r.Filepath); ok && e.dir == nil && e.link == "" {
		return strings.NewReader(e.data), nil
	}
	return nil, os.ErrNotExist
}

func (h *hostileFS) Filewrite(*sftp.Request) (io.WriterAt, error) { return nil, os.ErrPermission }
func (h *hostileFS) Filecmd(*sftp.Request) error                  { return os.ErrPermission }

func (h *hostileFS) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	switch r.Method {
	case "List":
		e, ok := h.lookup(r.Filepath)
		if !ok {
			return nil, os.ErrNotExist
		}
		if e.infinite {
			return listing{fakeInfo{name: "d", mode: os.ModeDir | 0o755}}, nil
		}
		var out listing
		for _, name := range e.dir {
			// The name as the server chooses to report it; the type from the entry it
			// claims to be (resolved the way the server would).
			in, ok := h.info(path.Join(r.Filepath, name))
			if !ok {
				in = fakeInfo{mode: 0o644}
			}
			in.name = name
			out = append(out, in)
		}
		return out, nil
	case "Stat", "Lstat":
		in, ok := h.info(r.Filepath)
		if !ok {
			return nil, os.ErrNotExist
		}
		return listing{in}, nil
	}
	return nil, os.ErrInvalid
}

func (h *hostileFS) Readlink(p string) (string, error) {
	if e, ok := h.lookup(p); ok && e.link != "" {
		return e.link, nil
	}
	return "", os.ErrNotExist
}

// TestGetFromHostileServer: whatever names, links and trees an SFTP server reports, get writes
// only inside its destination, recreates only links that stay inside what is copied, and
// refuses names that would climb out, before writing anything.
func TestGetFromHostileServer(t *testing.T) {
	h := &hostileFS{entries: map[string]hostileEntry{
		"/home/tester":                 {dir: []string{"results", "escape", "clean", "deep", "g"}},
		"/home/tester/results":         {dir: []string{"ok.txt", "/"}},
		"/home/tester/results/ok.txt":  {data: "fine\n"},
		"/home/tester/escape":          {dir: []string{"../../.bashrc", "a/../../../b"}},
		"/home/tester/escape/.bashrc":  {data: "pwned\n"},
		"/home/tester/escape/b":        {data: "b\n"},
		"/home/tester/clean":           {dir: []string{"ok.txt", "abs", "up", "in", "sub"}},
		"/home/tester/clean/ok.txt":    {data: "fine\n"},
		"/home/tester/clean/abs":       {link: "/home/op/.ssh/authorized_keys"},
		"/home/tester/clean/up":        {link: "../../../outside"},
		"/home/tester/clean/in":        {link: "ok.txt"},
		"/home/tester/clean/sub":       {dir: []string{"a.txt"}},
		"/home/tester/clean/sub/a.txt": {data: "a\n"},
		"/home/tester/deep":            {infinite: true},
		"/home/tester/g":               {dir: []string{"..", "x"}},
		"/home/tester/g/x":             {data: "x\n"},
	}}
	e := newEnv(t)
	handlers := sftp.Handlers{FileGet: h, FilePut: h, FileCmd: h, FileList: h}
	s := e.server(t, sshtest.Config{SFTP: &handlers, Dir: "/home/tester"})
	c := e.connect(t, target("node001", s.Addr))

	base := t.TempDir()
	home := filepath.Join(base, "home")
	bashrc := filepath.Join(home, ".bashrc")
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bashrc, []byte("# mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fresh := func() string {
		d, err := os.MkdirTemp(home, "dest")
		if err != nil {
			t.Fatal(err)
		}
		return filepath.Join(d, "a", "b") + string(filepath.Separator)
	}

	// An entry naming the directory itself ("/"), which would be walked forever: refused
	// before anything is written.
	dest := fresh()
	for _, src := range []string{"/home/tester/results", "results"} {
		if err := c.Get(t.Context(), []string{src}, dest, remote.TransferOpts{}); err == nil || !strings.Contains(err.Error(), "refusing it") {
			t.Errorf("%s: %v", src, err)
		}
	}
	if entries, _ := os.ReadDir(dest); len(entries) != 0 {
		t.Errorf("something was written before the refusal: %v", entries)
	}

	// Names with slashes and "..": they land inside the destination, never beside it.
	dest = fresh()
	if err := c.Get(t.Context(), []string{"escape"}, dest, remote.TransferOpts{}); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(bashrc); string(data) != "# mine\n" {
		t.Fatalf("~/.bashrc was overwritten: %q", data)
	}
	var landed []string
	_ = filepath.WalkDir(home, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && p != bashrc {
			rel, _ := filepath.Rel(dest, p)
			landed = append(landed, rel)
		}
		return nil
	})
	if strings.Join(landed, " ") != "escape/.bashrc escape/b" {
		t.Errorf("files landed at %v", landed)
	}

	// Links: those leaving what is copied are skipped, with the reason; the rest copied.
	dest = fresh()
	var skipped []string
	err := c.Get(t.Context(), []string{"clean"}, dest, remote.TransferOpts{OnSkip: func(p, why string) {
		skipped = append(skipped, path.Base(p)+": "+why)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 2 || !strings.Contains(strings.Join(skipped, "\n"), "abs: it points to the absolute path") ||
		!strings.Contains(strings.Join(skipped, "\n"), "up: it points to ../../../outside") {
		t.Errorf("skipped: %q", skipped)
	}
	if link, err := os.Readlink(filepath.Join(dest, "clean", "in")); err != nil || link != "ok.txt" {
		t.Errorf("the inside link: %q %v", link, err)
	}
	for _, name := range []string{"abs", "up"} {
		if _, err := os.Lstat(filepath.Join(dest, "clean", name)); err == nil {
			t.Errorf("the link %s was made", name)
		}
	}
	if data := mustRead(t, filepath.Join(dest, "clean", "sub", "a.txt")); !bytes.Equal(data, []byte("a\n")) {
		t.Errorf("sub/a.txt: %q", data)
	}

	// A link already in the destination (from an earlier copy) is never written through.
	outside := filepath.Join(base, "outside")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	dest = fresh()
	if err := os.MkdirAll(filepath.Join(dest, "clean"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dest, "clean", "sub")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(bashrc, filepath.Join(dest, "clean", "ok.txt")); err != nil {
		t.Fatal(err)
	}
	_ = c.Get(t.Context(), []string{"clean"}, dest, remote.TransferOpts{})
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("written through a link out of the destination: %v", entries)
	}
	if data, _ := os.ReadFile(bashrc); string(data) != "# mine\n" {
		t.Errorf("~/.bashrc was overwritten through a link: %q", data)
	}

	// A tree that never ends, and a glob matching "..": refused.
	if err := c.Get(t.Context(), []string{"deep"}, fresh(), remote.TransferOpts{}); err == nil || !strings.Contains(err.Error(), "deeper") {
		t.Errorf("endless tree: %v", err)
	}
	dest = fresh()
	if err := c.Get(t.Context(), []string{"g/*"}, dest, remote.TransferOpts{}); err != nil {
		t.Errorf("glob: %v", err)
	}
	if entries, _ := os.ReadDir(dest); len(entries) != 1 || entries[0].Name() != "x" {
		t.Errorf("a glob matching .. copied %v", entries)
	}
}

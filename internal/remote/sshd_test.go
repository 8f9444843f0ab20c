package remote_test

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/remote/sshdtest"
	"github.com/clusterctl/clusterctl/internal/remote/sshtest"
	"golang.org/x/crypto/ssh"
)

// startSSHD runs a real sshd accepting the env's key, with its host key pinned.
func (e *testEnv) startSSHD(t *testing.T) *sshdtest.Server {
	t.Helper()
	s := sshdtest.Start(t, sshdtest.Options{AuthorizedKeys: []ssh.PublicKey{e.signer.PublicKey()}})
	if err := e.kh.Pin([]string{s.Addr}, s.HostKey); err != nil {
		t.Fatal(err)
	}
	return s
}

// sshdTarget names the sshd as a node reached as the unprivileged login user.
func sshdTarget(name string, s *sshdtest.Server) remote.Target {
	return remote.Target{Name: name, Addr: s.Addr, User: s.User}
}

// userDir creates a fresh directory owned by the login user under its home.
func userDir(t *testing.T, s *sshdtest.Server) string {
	t.Helper()
	dir, err := os.MkdirTemp(s.Home, "test-*")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chown(dir, s.UID, s.GID); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestSSHDRunAndSudo(t *testing.T) {
	e := newEnv(t)
	s := e.startSSHD(t)
	c := e.connect(t, sshdTarget("node001", s))
	tests := []struct {
		name       string
		cmd        string
		opts       remote.RunOpts
		want       string
		wantStatus int
	}{
		{name: "login user", cmd: "id -un", want: sshdtest.User + "\n"},
		{name: "sudo", cmd: "id -u", opts: remote.RunOpts{Sudo: true}, want: "0\n"},
		{name: "sudo keeps pipes privileged", cmd: "id -u | tr 0 Z; echo \"it's $(id -un)\"",
			opts: remote.RunOpts{Sudo: true}, want: "Z\nit's root\n"},
		{name: "sudo exit status", cmd: "exit 4", opts: remote.RunOpts{Sudo: true}, wantStatus: 4},
		{name: "stdin", cmd: "wc -c", opts: remote.RunOpts{Stdin: strings.NewReader("12345")}, want: "5\n"},
		// Over Linux's 128 KiB argument limit: the script goes on standard input, its commands
		// still find theirs empty (cat prints nothing), and set -e and exit work as in a short one.
		{name: "long script", cmd: longScript(200<<10, "id -un; cat; echo done"), want: sshdtest.User + "\ndone\n"},
		{name: "long script with sudo", cmd: longScript(300<<10, "id -u; cat; exit 3"), opts: remote.RunOpts{Sudo: true},
			want: "0\n", wantStatus: 3},
		{name: "long script stops at an error", cmd: longScript(200<<10, "set -e; false; echo not reached"), wantStatus: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.RunWith(t.Context(), tt.cmd, tt.opts)
			if res.ExitStatus != tt.wantStatus || res.Stdout != tt.want {
				t.Fatalf("got %+v (err %v), want stdout %q status %d", res, err, tt.want, tt.wantStatus)
			}
			var rerr *remote.RemoteError
			if (tt.wantStatus != 0) != errors.As(err, &rerr) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	// A cancelled command returns at once.
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Run(ctx, "sleep 30"); err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("cancelled sleep: %v after %s", err, time.Since(start))
	}
}

func TestSSHDUploadThroughSudoAndOwner(t *testing.T) {
	e := newEnv(t)
	s := e.startSSHD(t)
	c := e.connect(t, sshdTarget("node001", s))

	// A root-owned directory the login user cannot write: the upload must go through sudo
	// and still land atomically.
	rootDir, err := os.MkdirTemp("", "clusterctl-rootdir-*")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(rootDir) })
	if err := os.Chmod(rootDir, 0o755); err != nil {
		t.Fatal(err)
	}
	own := userDir(t, s)
	tests := []struct {
		name    string
		path    string
		opts    remote.FileOpts
		wantUID string
		mode    os.FileMode
	}{
		{name: "root-owned directory", path: filepath.Join(rootDir, "slurm.conf"), opts: remote.FileOpts{Mode: 0o640},
			wantUID: "0", mode: 0o640},
		{name: "root-owned directory with owner", path: filepath.Join(rootDir, "munge.key"),
			opts: remote.FileOpts{Mode: 0o400, Owner: sshdtest.User}, wantUID: "user", mode: 0o400},
		{name: "own directory, chown to root", path: filepath.Join(own, "root.txt"),
			opts: remote.FileOpts{Mode: 0o644, Owner: "root:root"}, wantUID: "0", mode: 0o644},
		{name: "forced sudo", path: filepath.Join(own, "forced.txt"), opts: remote.FileOpts{Sudo: true},
			wantUID: "0", mode: 0o644},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, content := range []string{"first version\n", "second version\n"} {
				var last int64
				tt.opts.Progress = func(done, _ int64) { last = done }
				err := c.Upload(t.Context(), strings.NewReader(content), tt.path, tt.opts)
				if err != nil {
					t.Fatal(err)
				}
				if got := string(mustRead(t, tt.path)); got != content {
					t.Fatalf("content %q, want %q", got, content)
				}
				if last != int64(len(content)) {
					t.Errorf("progress ended at %d", last)
				}
			}
			st, err := os.Stat(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			uid := strconv.Itoa(int(st.Sys().(*syscall.Stat_t).Uid))
			want := tt.wantUID
			if want == "user" {
				want = strconv.Itoa(s.UID)
			}
			if uid != want || st.Mode().Perm() != tt.mode {
				t.Errorf("owner %s mode %o, want %s %o", uid, st.Mode().Perm(), want, tt.mode)
			}
			assertOnlyFile(t, filepath.Dir(tt.path), filepath.Base(tt.path))
		})
	}
	// Nothing staged in the home directory survives.
	staged, _ := filepath.Glob(filepath.Join(s.Home, ".clusterctl-upload-*"))
	if len(staged) != 0 {
		t.Errorf("staging files left: %v", staged)
	}
}

// assertOnlyFile fails unless name is the only entry of dir starting with its own name's
// temporary prefix, i.e. no ".name.clusterctl-*" file was left behind.
func assertOnlyFile(t *testing.T, dir, name string) {
	t.Helper()
	leftovers, _ := filepath.Glob(filepath.Join(dir, "."+name+".clusterctl-*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestSSHDPutGetTreeWithGlob(t *testing.T) {
	e := newEnv(t)
	s := e.startSSHD(t)
	c := e.connect(t, sshdTarget("node001", s))
	local := writableTempDir(t)
	makeTree(t, filepath.Join(local, "site"), append([]treeFile{{path: "/", mode: 0o755}}, sampleTree()...))
	want := describeTree(t, filepath.Join(local, "site"))
	remoteDir := userDir(t, s)
	t.Cleanup(func() { exec.Command("chmod", "-R", "u+w", remoteDir).Run() })

	if err := c.Put(t.Context(), []string{filepath.Join(local, "site")}, remoteDir+"/", remote.TransferOpts{}); err != nil {
		t.Fatal(err)
	}
	if got := describeTree(t, filepath.Join(remoteDir, "site")); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("remote tree:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The login user, not root, owns what it put.
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(remoteDir, "site", "conf", "app.ini"), &st); err != nil || st.Uid == 0 {
		t.Errorf("uploaded file owned by uid %d (%v), want the login user", st.Uid, err)
	}
	dest := writableTempDir(t)
	var last, total int64
	err := c.Get(t.Context(), []string{filepath.Join(remoteDir, "site", "*")}, dest,
		remote.TransferOpts{Progress: func(d, tot int64) { last, total = d, tot }})
	if err != nil {
		t.Fatal(err)
	}
	if got := describeTree(t, dest); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("fetched tree:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if last != total || total == 0 {
		t.Errorf("progress ended at %d/%d", last, total)
	}
}

func TestSSHDJumpHost(t *testing.T) {
	e := newEnv(t)
	master := e.startSSHD(t)
	node := e.startSSHD(t)
	jump := sshdTarget("master", master)
	tg := sshdTarget("node001", node)
	tg.Jump = &jump
	pool := remote.NewPool(e.opts())
	defer pool.Close()
	c, err := pool.Get(t.Context(), tg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Run(t.Context(), "echo $SSH_CONNECTION")
	if err != nil {
		t.Fatal(err)
	}
	// sshd on the node reports the connection's local port: the node's, reached through
	// the master's forwarding.
	if !strings.HasSuffix(strings.TrimSpace(res.Stdout), " "+tg.Port()) {
		t.Errorf("SSH_CONNECTION %q does not end at the node's port %s", res.Stdout, tg.Port())
	}
	if !strings.Contains(node.Log(), "Accepted publickey for "+sshdtest.User) ||
		!strings.Contains(master.Log(), "Accepted publickey for "+sshdtest.User) {
		t.Errorf("both sshds should log a login:\nmaster:\n%s\nnode:\n%s", master.Log(), node.Log())
	}

	// With a wrong pin for the node, the jump connection works but the node is refused.
	if err := e.kh.Pin([]string{node.Addr}, sshtest.NewSigner(t, sshtest.Ed25519).PublicKey()); err != nil {
		t.Fatal(err)
	}
	_, err = remote.Connect(t.Context(), tg, e.opts())
	var mm *remote.HostKeyMismatchError
	if !errors.As(err, &mm) || mm.Host != "node001" {
		t.Fatalf("err = %v, want mismatch for node001", err)
	}
}

func TestSSHDInteractiveShell(t *testing.T) {
	e := newEnv(t)
	s := e.startSSHD(t)
	c := e.connect(t, sshdTarget("node001", s))
	term := openTerminal(t, 24, 80)
	done := runShell(t, c, term)
	io.WriteString(term.ptmx, "echo hi; exit 3\n")
	// "hi" directly followed by a newline only appears as the command's output, never in the
	// echoed input ("echo hi; exit 3").
	term.waitFor(t, regexp.MustCompile(`hi\r?\n`))
	if status := awaitShell(t, done); status != 3 {
		t.Errorf("exit status %d, want 3", status)
	}
}

// TestSSHDPutNamesStartingWithDash: put through sudo with a destination and a file whose names
// start with "-" (relative to the home): every command gets "--" before its paths, so no
// name is read as an option.
func TestSSHDPutNamesStartingWithDash(t *testing.T) {
	e := newEnv(t)
	s := e.startSSHD(t)
	c := e.connect(t, sshdTarget("node001", s))
	local := writableTempDir(t)
	file := filepath.Join(local, "-f.txt")
	if err := os.WriteFile(file, []byte("dash\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dest := "-rf-" + filepath.Base(local)
	t.Cleanup(func() { os.RemoveAll(filepath.Join(s.Home, dest)) })
	if err := c.Put(t.Context(), []string{file}, dest+"/", remote.TransferOpts{Sudo: true, Owner: s.User}); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(s.Home, dest, "-f.txt")); err != nil || string(data) != "dash\n" {
		t.Errorf("put -f.txt into %s: %q %v", dest, data, err)
	}
}

// longScript is tail after n bytes of comments, a script too long for a command line.
func longScript(n int, tail string) string {
	line := "# " + strings.Repeat("x", 77) + "\n"
	return strings.Repeat(line, n/len(line)+1) + tail
}

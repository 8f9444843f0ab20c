package sshdtest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// User is the account tests log in as: a non-root user with passwordless sudo, like the admin
// or ubuntu users of cloud images. It exists only inside each sshd's private mount namespace
// (see account), never in the machine's own /etc/passwd.
const User = "clusterctl-test"

// firstUID is where the search for a uid the machine does not use starts: above the range
// adduser hands out, so files the test user leaves behind never belong to a real account.
const firstUID = 61000

// Paths of the programs the helpers need.
const (
	SSHDPath    = "/usr/sbin/sshd"
	SSHPath     = "/usr/bin/ssh"
	SudoPath    = "/usr/bin/sudo"
	UnsharePath = "/usr/bin/unshare"
)

// skipUnlessAvailable skips the test, saying exactly why, when sshd tests cannot run here.
func skipUnlessAvailable(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("sshdtest: skipped because the test is not running as root (uid %d): sshd runs in a private "+
			"mount namespace with its own test account; `make test` runs as root and installs openssh-server and sudo", os.Geteuid())
	}
	for _, p := range []string{SSHDPath, SudoPath, UnsharePath} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("sshdtest: skipped because %s is missing (%v); `make test` installs openssh-server and sudo", p, err)
		}
	}
}

// account is the test user of one sshd: copies of the machine's account files with the user
// added, bind-mounted over the originals inside sshd's own mount namespace only. Nothing on the
// machine changes, so a test that dies leaves no account or sudoers entry behind.
type account struct {
	uid, gid int
	home     string
	// files maps each system file (/etc/passwd, ...) to the copy sshd's namespace sees.
	files map[string]string
}

// newAccount prepares the account files in dir and a home directory owned by the user.
func newAccount(t testing.TB, dir string) *account {
	t.Helper()
	skipUnlessAvailable(t)
	uid, err := freeID("/etc/passwd", firstUID)
	if err != nil {
		t.Fatalf("sshdtest: %v", err)
	}
	home, err := os.MkdirTemp("", "sshdtest-home-*")
	if err != nil {
		t.Fatalf("sshdtest: home directory: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	if err := os.Chmod(home, 0o755); err != nil {
		t.Fatalf("sshdtest: home directory: %v", err)
	}
	if err := os.Chown(home, uid, uid); err != nil {
		t.Fatalf("sshdtest: home directory: %v", err)
	}
	a := &account{uid: uid, gid: uid, home: home, files: map[string]string{}}
	id := strconv.Itoa(uid)
	// A password field of "*" means no password but not locked: sshd without PAM refuses
	// locked ("!") accounts even for key logins.
	additions := map[string]string{
		"/etc/passwd":  User + ":x:" + id + ":" + id + ":clusterctl test user:" + home + ":/bin/sh\n",
		"/etc/shadow":  User + ":*:19000:0:99999:7:::\n",
		"/etc/group":   User + ":x:" + id + ":\n",
		"/etc/sudoers": User + " ALL=(ALL) NOPASSWD: ALL\n",
	}
	for sys, line := range additions {
		copyPath := filepath.Join(dir, filepath.Base(sys))
		if err := appendCopy(sys, copyPath, line); err != nil {
			t.Fatalf("sshdtest: %v", err)
		}
		a.files[sys] = copyPath
	}
	return a
}

// mountScript is the shell prologue that, run by unshare in a new mount namespace, puts the
// account's files in place before it execs sshd ("$@").
func (a *account) mountScript() string {
	var b strings.Builder
	b.WriteString("set -e\n")
	for _, sys := range []string{"/etc/passwd", "/etc/shadow", "/etc/group", "/etc/sudoers"} {
		fmt.Fprintf(&b, "mount --bind %s %s\n", a.files[sys], sys)
	}
	b.WriteString(`exec "$@"` + "\n")
	return b.String()
}

// appendCopy writes the content of src followed by line to dst, with src's mode. Lines of src
// for an account of the same name are left out, so the test account is the only one.
func appendCopy(src, dst, line string) error {
	orig, err := os.ReadFile(src)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	var data []byte
	for _, l := range bytes.SplitAfter(orig, []byte("\n")) {
		if !bytes.HasPrefix(l, []byte(User+":")) && !bytes.HasPrefix(l, []byte(User+" ")) {
			data = append(data, l...)
		}
	}
	mode := os.FileMode(0o644)
	if st, err := os.Stat(src); err == nil {
		mode = st.Mode().Perm()
	}
	if len(data) > 0 && !bytes.HasSuffix(data, []byte("\n")) {
		data = append(data, '\n')
	}
	if err := os.WriteFile(dst, append(data, line...), mode); err != nil {
		return err
	}
	return os.Chmod(dst, mode) // WriteFile's mode is filtered by the umask
}

// freeID returns the first id from start upwards that no line of an /etc/passwd-style file
// uses as its uid or gid.
func freeID(path string, start int) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	used := map[int]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		for _, i := range []int{2, 3} {
			if len(fields) > i {
				if n, err := strconv.Atoi(fields[i]); err == nil {
					used[n] = true
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	for id := start; id < 1<<20; id++ {
		if !used[id] {
			return id, nil
		}
	}
	return 0, fmt.Errorf("no free uid from %d in %s", start, path)
}

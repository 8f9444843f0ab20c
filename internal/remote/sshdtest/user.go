package sshdtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"testing"
)

// User is the local account tests log in as: a non-root user with passwordless sudo, like
// the admin or ubuntu users of cloud images.
const User = "clusterctl-test"

// sudoersFile grants User passwordless sudo.
const sudoersFile = "/etc/sudoers.d/" + User

// Paths of the programs the helpers need.
const (
	SSHDPath = "/usr/sbin/sshd"
	SSHPath  = "/usr/bin/ssh"
	SudoPath = "/usr/bin/sudo"
)

// skipUnlessAvailable skips the test, saying exactly why, when sshd tests cannot run here.
func skipUnlessAvailable(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("sshdtest: skipped because the test is not running as root (uid %d): it must create "+
			"the %s account and run sshd; CI runs tests as root, and `make test` installs openssh-server", os.Geteuid(), User)
	}
	for _, p := range []string{SSHDPath, SudoPath} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("sshdtest: skipped because %s is missing (%v); `make test` installs openssh-server and sudo", p, err)
		}
	}
}

// EnsureUser creates, if needed, the login user with a home directory and a sudoers drop-in
// granting NOPASSWD: ALL, and returns its home directory. It is idempotent and safe when
// several test processes race to create the account. It skips the test when not root or
// when sshd or sudo is missing.
func EnsureUser(t testing.TB) string {
	t.Helper()
	skipUnlessAvailable(t)
	if _, err := user.Lookup(User); err != nil {
		out, err := exec.Command("useradd", "--create-home", "--shell", "/bin/sh", User).CombinedOutput()
		var exitErr *exec.ExitError
		// Exit status 9: another process created the user meanwhile.
		if err != nil && !(errors.As(err, &exitErr) && exitErr.ExitCode() == 9) {
			t.Fatalf("sshdtest: useradd %s: %v\n%s", User, err, out)
		}
	}
	// A new account's password is locked ("!"), and sshd without PAM refuses locked
	// accounts even for key logins; "*" means no password but not locked.
	if out, err := exec.Command("usermod", "-p", "*", User).CombinedOutput(); err != nil {
		t.Fatalf("sshdtest: unlock %s: %v\n%s", User, err, out)
	}
	u, err := user.Lookup(User)
	if err != nil {
		t.Fatalf("sshdtest: look up %s: %v", User, err)
	}
	if err := os.MkdirAll(u.HomeDir, 0o755); err != nil {
		t.Fatalf("sshdtest: home directory: %v", err)
	}
	if err := writeSudoers(); err != nil {
		t.Fatalf("sshdtest: %v", err)
	}
	return u.HomeDir
}

// writeSudoers installs the sudoers drop-in atomically, so sudo never reads half of it.
func writeSudoers() error {
	want := User + " ALL=(ALL) NOPASSWD: ALL\n"
	if data, err := os.ReadFile(sudoersFile); err == nil && string(data) == want {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(sudoersFile), 0o755); err != nil {
		return fmt.Errorf("sudoers directory: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(sudoersFile), "."+User+"-*")
	if err != nil {
		return fmt.Errorf("write sudoers: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(want); err != nil {
		tmp.Close()
		return fmt.Errorf("write sudoers: %w", err)
	}
	if err := tmp.Chmod(0o440); err != nil {
		tmp.Close()
		return fmt.Errorf("write sudoers: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write sudoers: %w", err)
	}
	if err := os.Rename(tmp.Name(), sudoersFile); err != nil {
		return fmt.Errorf("install sudoers: %w", err)
	}
	return nil
}

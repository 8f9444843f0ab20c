package local

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// loginUser is an account of the image, as /etc/passwd describes it.
type loginUser struct {
	name     string
	uid, gid int
	home     string
}

// parsePasswd finds user name in the text of an /etc/passwd.
func parsePasswd(passwd, name string) (loginUser, bool) {
	for _, line := range strings.Split(passwd, "\n") {
		f := strings.Split(line, ":")
		if len(f) < 7 || f[0] != name {
			continue
		}
		uid, err1 := strconv.Atoi(f[2])
		gid, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil || !filepath.IsAbs(f[5]) {
			return loginUser{}, false
		}
		return loginUser{name: name, uid: uid, gid: gid, home: filepath.Clean(f[5])}, true
	}
	return loginUser{}, false
}

// resolveLoginUser returns the account whose authorized_keys get the boot config's keys: the
// requested user when the image has it, else the image's own login user (a template written for
// an EC2 image may name ubuntu or ec2-user, which the local image does not have).
func resolveLoginUser(imageRoot, requested, fallback string) (loginUser, error) {
	data, err := os.ReadFile(filepath.Join(imageRoot, "etc", "passwd"))
	if err != nil {
		return loginUser{}, fmt.Errorf("read the image's users: %w", err)
	}
	if requested != "" {
		if u, ok := parsePasswd(string(data), requested); ok {
			return u, nil
		}
	}
	if u, ok := parsePasswd(string(data), fallback); ok {
		return u, nil
	}
	return loginUser{}, fmt.Errorf("the image has no user %q", fallback)
}

// authorizeKeys adds keys to home/.ssh/authorized_keys (keeping keys already there), creating
// the home from the image's copy (skeleton files included) when it does not exist yet, all
// owned by the user. home is a host path: the shared /home's directory, or the user's home
// inside one instance's root.
func authorizeKeys(home, imageHome string, u loginUser, keys []string) error {
	if _, err := os.Stat(home); errors.Is(err, fs.ErrNotExist) {
		if err := copyTree(imageHome, home); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("create home of %s: %w", u.name, err)
		}
		if err := os.MkdirAll(home, 0o755); err != nil {
			return fmt.Errorf("create home of %s: %w", u.name, err)
		}
		if err := os.Lchown(home, u.uid, u.gid); err != nil {
			return fmt.Errorf("create home of %s: %w", u.name, err)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	// The shared home is writable from inside the nodes, and this runs as root on the host:
	// never follow a link planted there out of it.
	sshDir := filepath.Join(home, ".ssh")
	for _, d := range []string{home, sshDir} {
		if st, err := os.Lstat(d); err == nil && !st.IsDir() {
			return fmt.Errorf("authorize keys for %s: %s is not a directory", u.name, d)
		}
	}
	if err := os.MkdirAll(sshDir, 0o700); err != nil {
		return fmt.Errorf("authorize keys for %s: %w", u.name, err)
	}
	path := filepath.Join(sshDir, "authorized_keys")
	var old []byte
	if st, err := os.Lstat(path); err == nil && st.Mode().IsRegular() {
		if old, err = os.ReadFile(path); err != nil {
			return fmt.Errorf("authorize keys for %s: %w", u.name, err)
		}
	}
	// A new file renamed into place replaces whatever path was, a link included.
	tmp, err := os.CreateTemp(sshDir, ".authorized_keys-*")
	if err != nil {
		return fmt.Errorf("authorize keys for %s: %w", u.name, err)
	}
	_, werr := tmp.WriteString(mergeKeys(string(old), keys))
	if err := errors.Join(werr, tmp.Chmod(0o600), tmp.Chown(u.uid, u.gid), tmp.Close(), os.Rename(tmp.Name(), path)); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("authorize keys for %s: %w", u.name, err)
	}
	if err := os.Lchown(sshDir, u.uid, u.gid); err != nil {
		return fmt.Errorf("authorize keys for %s: %w", u.name, err)
	}
	return os.Chmod(sshDir, 0o700)
}

// mergeKeys appends each key not yet present (by whole line) to an authorized_keys text.
func mergeKeys(existing string, keys []string) string {
	lines := strings.Split(strings.TrimRight(existing, "\n"), "\n")
	if existing == "" {
		lines = nil
	}
	for _, k := range keys {
		k = strings.TrimSpace(k)
		if k != "" && !slices.Contains(lines, k) {
			lines = append(lines, k)
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// copyTree copies a directory tree with modes and owners (a home's skeleton files).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path) // path is below src
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.MkdirAll(target, info.Mode().Perm()); err != nil {
				return err
			}
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			if err := os.Symlink(link, target); err != nil {
				return err
			}
		case d.Type().IsRegular():
			if err := copyFile(path, target, info.Mode().Perm()); err != nil {
				return err
			}
		default:
			return nil // devices, sockets: nothing a home skeleton needs
		}
		if st, ok := statOwner(info); ok {
			if err := os.Lchown(target, st.uid, st.gid); err != nil {
				return err
			}
		}
		if d.Type()&fs.ModeSymlink == 0 {
			return os.Chmod(target, info.Mode().Perm())
		}
		return nil
	})
}

// copyFile copies one regular file.
func copyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	return errors.Join(err, out.Close())
}

// owner is a file's numeric owner.
type owner struct{ uid, gid int }

// statOwner reads the owner from a FileInfo of the local filesystem.
func statOwner(info fs.FileInfo) (owner, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return owner{}, false
	}
	return owner{uid: int(st.Uid), gid: int(st.Gid)}, true
}

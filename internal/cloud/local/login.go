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

	"golang.org/x/sys/unix"
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

// authorizeKeys adds keys to the login user's authorized_keys (keeping keys already there),
// creating the home from the image's copy (skeleton files included) when it does not exist
// yet, all owned by the user. root is a trusted host directory (the shared /home's directory,
// or an instance's root) and rel the home below it. Users inside the nodes can change what
// lies below root while this runs as root on the host, so every step below it goes through
// file descriptors opened without following links (beneath.go): a link planted anywhere on
// the way is refused, and authorized_keys itself is replaced, never written through.
func authorizeKeys(root, rel, imageHome string, u loginUser, keys []string) error {
	fail := func(err error) error {
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EXDEV) || errors.Is(err, unix.ENOTDIR) {
			err = fmt.Errorf("%w (a link, a path through one, or not a directory: refused)", err)
		}
		return fmt.Errorf("authorize keys for %s in %s: %w", u.name, filepath.Join(root, rel), err)
	}
	rootfd, err := unix.Open(root, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fail(err)
	}
	defer unix.Close(rootfd)
	homefd, err := beneath(rootfd, rel, unix.O_DIRECTORY|unix.O_RDONLY, 0)
	if errors.Is(err, unix.ENOENT) {
		// A new home: the skeleton is copied where no user can write yet (its parent is the
		// root-owned /home), then the home is opened again, without links.
		home := filepath.Join(root, rel)
		if err := copyTree(imageHome, home); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fail(fmt.Errorf("create home: %w", err))
		}
		if err := os.MkdirAll(home, 0o755); err != nil {
			return fail(fmt.Errorf("create home: %w", err))
		}
		if err := os.Lchown(home, u.uid, u.gid); err != nil {
			return fail(fmt.Errorf("create home: %w", err))
		}
		homefd, err = beneath(rootfd, rel, unix.O_DIRECTORY|unix.O_RDONLY, 0)
	}
	if err != nil {
		return fail(err)
	}
	defer unix.Close(homefd)
	if len(keys) == 0 {
		return nil
	}
	sshfd, err := dirBeneath(homefd, ".ssh", 0o700, u.uid, u.gid)
	if err != nil {
		return fail(err)
	}
	defer unix.Close(sshfd)
	old, err := readBeneath(sshfd, "authorized_keys", 1<<20)
	if err != nil {
		return fail(err)
	}
	if err := replaceBeneath(sshfd, "authorized_keys", []byte(mergeKeys(string(old), keys)), 0o600, u.uid, u.gid); err != nil {
		return fail(err)
	}
	return errors.Join(unix.Fchown(sshfd, u.uid, u.gid), unix.Fchmod(sshfd, 0o700))
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

package local

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// The local provider writes into containers' files as root on the host: the login user's
// authorized_keys on the shared /home, which every node's users can reach. A path checked with
// Lstat and then used can be swapped for a link in between, so these helpers resolve every
// path with openat2 below a directory, refusing links anywhere on the way, and act on the file
// descriptors they got, never on the path again.

// beneath opens rel below the directory dirfd without following any link (RESOLVE_BENEATH,
// RESOLVE_NO_SYMLINKS): a link on the way is an error (ELOOP), as is a path leaving dirfd.
func beneath(dirfd int, rel string, flags int, mode uint32) (int, error) {
	how := unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC | unix.O_NOFOLLOW),
		Mode:    uint64(mode),
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	}
	for {
		fd, err := unix.Openat2(dirfd, rel, &how)
		if errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN) {
			continue // EAGAIN: a rename raced the lookup; try again
		}
		return fd, err
	}
}

// dirBeneath opens the directory rel below dirfd, creating it (mode, owned by uid:gid) when it
// is missing. The new directory is owned before it is returned.
func dirBeneath(dirfd int, rel string, mode uint32, uid, gid int) (int, error) {
	fd, err := beneath(dirfd, rel, unix.O_DIRECTORY|unix.O_RDONLY, 0)
	if !errors.Is(err, unix.ENOENT) {
		return fd, err
	}
	if err := unix.Mkdirat(dirfd, rel, mode); err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, err
	}
	fd, err = beneath(dirfd, rel, unix.O_DIRECTORY|unix.O_RDONLY, 0)
	if err != nil {
		return -1, err
	}
	if err := unix.Fchown(fd, uid, gid); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// readBeneath reads the regular file name in dirfd (at most limit bytes); a missing file, a
// link or anything but a regular file reads as empty.
func readBeneath(dirfd int, name string, limit int64) ([]byte, error) {
	fd, err := beneath(dirfd, name, unix.O_RDONLY|unix.O_NONBLOCK, 0)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ELOOP) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(f, limit))
}

// replaceBeneath writes data as name in dirfd, owned by uid:gid with mode: into a new file
// created there exclusively, renamed over name, so whatever name was (a link included) is
// replaced, never written through.
func replaceBeneath(dirfd int, name string, data []byte, mode uint32, uid, gid int) error {
	tmp := "." + name + "-" + newID("")
	fd, err := beneath(dirfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), tmp)
	_, werr := f.Write(data)
	err = errors.Join(werr, unix.Fchmod(fd, mode), unix.Fchown(fd, uid, gid), f.Close())
	if err == nil {
		err = unix.Renameat(dirfd, tmp, dirfd, name)
	}
	if err != nil {
		_ = unix.Unlinkat(dirfd, tmp, 0)
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

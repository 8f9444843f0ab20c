package local

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// mountOverlay mounts an instance's root: the image read-only below, the instance's own upper
// and work directories above, at merged. Every instance of an image shares its lower layer, so
// a node costs only what it writes.
func mountOverlay(lower, upper, work, merged string) error {
	return mountOverlayFlags(lower, upper, work, merged, 0)
}

// mountOverlayFlags is mountOverlay with mount flags (MS_NOSUID|MS_NODEV for data that users
// write, like a volume's copy, so nothing there runs with its owner's privileges).
func mountOverlayFlags(lower, upper, work, merged string, flags uintptr) error {
	opts := "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work
	if err := unix.Mount("overlay", merged, "overlay", flags, opts); err != nil {
		return fmt.Errorf("mount overlay at %s (%s): %w", merged, opts, err)
	}
	return nil
}

// unmount unmounts path, retrying while it is busy (a container's processes can take a moment
// to let go after its nspawn died), then detaching it lazily rather than leaving it mounted.
// A path that is not mounted is fine.
func unmount(path string) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := unix.Unmount(path, 0)
		switch {
		case err == nil, errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOENT):
			return nil // EINVAL: not a mount point (any more)
		case errors.Is(err, unix.EBUSY) && time.Now().Before(deadline):
			time.Sleep(100 * time.Millisecond)
			continue
		case errors.Is(err, unix.EBUSY):
			if derr := unix.Unmount(path, unix.MNT_DETACH); derr != nil {
				return fmt.Errorf("unmount %s: %w", path, derr)
			}
			return nil
		default:
			return fmt.Errorf("unmount %s: %w", path, err)
		}
	}
}

// mountPoints lists this process's mount points (/proc/self/mountinfo).
func mountPoints() ([]string, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mount table: %w", err)
	}
	return parseMountInfo(string(data)), nil
}

// parseMountInfo returns the mount point (fifth field) of each mountinfo line, with the
// kernel's octal escapes (\040 for a space) decoded.
func parseMountInfo(data string) []string {
	var out []string
	for _, line := range strings.Split(data, "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		out = append(out, unescapeMount(f[4]))
	}
	return out
}

// unescapeMount decodes mountinfo's \NNN octal escapes.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// isMounted reports whether path is a mount point.
func isMounted(path string) (bool, error) {
	mps, err := mountPoints()
	if err != nil {
		return false, err
	}
	for _, m := range mps {
		if m == path {
			return true, nil
		}
	}
	return false, nil
}

// mountsUnder returns the mount points at or below dir, deepest first, so they can be
// unmounted in order.
func mountsUnder(dir string) ([]string, error) {
	mps, err := mountPoints()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range mps {
		if m == dir || strings.HasPrefix(m, dir+"/") {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out, nil
}

// unmountUnder unmounts everything at or below dir, before the directory is removed: RemoveAll
// through a mounted overlay would walk the whole image and fill the upper layer with whiteouts.
func unmountUnder(dir string) error {
	mps, err := mountsUnder(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range mps {
		errs = append(errs, unmount(m))
	}
	return errors.Join(errs...)
}

package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// shareMount makes a mount point shared, so mounts made below it later propagate into the
// mount namespaces copied from it: an instance's root is shared before nspawn starts, and a
// volume mounted under it on the host afterwards appears inside the running container (whose
// copy nspawn makes a slave: nothing propagates back).
func shareMount(path string) error {
	if err := unix.Mount("", path, "", unix.MS_SHARED, ""); err != nil {
		return fmt.Errorf("make %s a shared mount: %w", path, err)
	}
	return nil
}

// isSharedMount reports whether the mount at path propagates to its peers (mountinfo's
// "shared:N" field).
func isSharedMount(path string) (bool, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false, fmt.Errorf("read mount table: %w", err)
	}
	shared := false
	for _, line := range strings.Split(string(data), "\n") {
		pre, _, ok := strings.Cut(line, " - ")
		f := strings.Fields(pre)
		if !ok || len(f) < 6 || unescapeMount(f[4]) != path {
			continue
		}
		shared = false // the last mount at path is the visible one
		for _, opt := range f[6:] {
			shared = shared || strings.HasPrefix(opt, "shared:")
		}
	}
	return shared, nil
}

// attachLive makes a volume's files appear in a running instance at AttachDir/VOLUME-ID: a bind
// mount on the host below the instance's shared root, which propagates into the container. The
// mount point is made below the root without following any link, since the container's root
// could have planted one to point the host's mount elsewhere.
func (p *Provider) attachLive(ctx context.Context, rec instanceRecord, v volumeRecord) error {
	merged := p.mergedDir(rec)
	if shared, err := isSharedMount(merged); err != nil {
		return err
	} else if !shared {
		return fmt.Errorf("instance %s (%s) was booted by a clusterctl that could not attach volumes to running instances; stop and start it first", rec.Alias, rec.ID)
	}
	if err := p.mountCopy(v); err != nil {
		return err
	}
	inside := AttachDir + "/" + v.ID
	dir, err := mkdirBeneath(merged, inside)
	if err != nil {
		return fmt.Errorf("attach volume %s to %s: %w", v.ID, rec.Alias, err)
	}
	defer dir.Close()
	src := filepath.Join(p.volumeDir(v.ID), "data")
	if err := unix.Mount(src, "/proc/self/fd/"+strconv.Itoa(int(dir.Fd())), "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("attach volume %s to %s: bind %s: %w", v.ID, rec.Alias, src, err)
	}
	if _, err := p.inContainer(ctx, rec.PID, "mountpoint", "-q", inside); err != nil {
		_ = unmount(filepath.Join(merged, inside))
		return fmt.Errorf("attach volume %s to %s: it did not appear in the instance at %s: %w", v.ID, rec.Alias, inside, err)
	}
	p.log.Info("attached volume to a running instance", "volume", v.ID, "instance", rec.ID, "path", inside)
	return nil
}

// detachLive undoes attachLive: the host's mount goes, and with it the container's copy.
func (p *Provider) detachLive(rec instanceRecord, v volumeRecord) error {
	target := filepath.Join(p.mergedDir(rec), AttachDir, v.ID)
	mounted, err := isMounted(target)
	if err != nil || !mounted {
		return err
	}
	return unmount(target)
}

// mkdirBeneath creates rel (a clean absolute path) below root one directory at a time,
// refusing symbolic links and anything escaping root, and returns the last directory opened
// as an O_PATH descriptor.
func mkdirBeneath(root, rel string) (*os.File, error) {
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", root, err)
	}
	for _, name := range strings.Split(strings.Trim(rel, "/"), "/") {
		if name == "" || name == "." || name == ".." {
			unix.Close(fd)
			return nil, fmt.Errorf("path %q: want a clean absolute path", rel)
		}
		if err := unix.Mkdirat(fd, name, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
			unix.Close(fd)
			return nil, fmt.Errorf("create %s in %s: %w", name, rel, err)
		}
		next, err := unix.Openat2(fd, name, &unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
			Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS})
		unix.Close(fd)
		if err != nil {
			return nil, fmt.Errorf("open %s in %s (links are not followed): %w", name, rel, err)
		}
		fd = next
	}
	return os.NewFile(uintptr(fd), filepath.Join(root, rel)), nil
}

// attachOne attaches a volume the cluster does not mount to one instance: live when the
// instance runs, else recorded for its next boot. A volume attached elsewhere is refused, as
// EBS refuses it.
func (p *Provider) attachOne(ctx context.Context, inv inventory, r volumeRecord, inst instanceRecord, device string) error {
	if v := inv.toVolume(r); v.AttachedTo != "" {
		if v.AttachedTo == inst.ID {
			return nil
		}
		return fmt.Errorf("attach volume %s to %s: it is attached to %s", r.ID, inst.ID, v.AttachedTo)
	}
	live := nspawnAlive(inst.PID, machineName(inst.ID))
	if live {
		if err := p.attachLive(ctx, inst, r); err != nil {
			return err
		}
	}
	r.Attachment, r.Detached = &volumeAttachment{Instance: inst.ID, Device: device, Live: live}, false
	return writeJSON(filepath.Join(p.volumeDir(r.ID), volumeFile), r)
}

// detachOne takes a volume attached to one instance out of it while it runs: a live attachment
// from the host side, a volume bound at boot from inside the container. Volumes bound into a
// whole cluster stay bound until its nodes stop.
func (p *Provider) detachOne(ctx context.Context, r volumeRecord) error {
	if r.Attachment == nil {
		return nil
	}
	inst, err := p.findInstance(r.Attachment.Instance)
	if errors.Is(err, cloud.ErrNotFound) {
		return nil
	}
	if err != nil || !nspawnAlive(inst.PID, machineName(inst.ID)) {
		return err
	}
	if r.MountPath != "" {
		_, err := p.inContainer(ctx, inst.PID, "umount", r.MountPath)
		return err
	}
	return p.detachLive(inst, r)
}

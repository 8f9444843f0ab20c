package local

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Containers run without user namespaces: a file a node's user (UID 1001) owns on the shared
// /home is owned by UID 1001 on the host too, and the container roots hold setuid programs of
// the image. So the state tree is root's alone (0700 at every top directory: nothing below is
// reachable by the host's users), and the directories bound into the nodes are mounted
// nosuid,nodev: a setuid file or device node made there gives nothing, inside or out.

// privateMode is the mode of the state tree's top directories.
const privateMode = 0o700

// ensurePrivate creates the state directory and its top directories (clusters, volumes, the
// image cache) as 0700, and tightens them when an older clusterctl made them 0755.
func (p *Provider) ensurePrivate() error {
	for _, d := range []string{p.stateDir, p.clustersDir(), p.volumesDir(), p.imageDir} {
		if err := os.MkdirAll(d, privateMode); err != nil {
			return fmt.Errorf("state directory: %w", err)
		}
		if err := os.Chmod(d, privateMode); err != nil {
			return fmt.Errorf("state directory: %w", err)
		}
	}
	return nil
}

// bindNosuid makes dir a mount point of itself, remounted nosuid,nodev, so the bind
// systemd-nspawn makes of it (which copies the source mount's flags) is nosuid,nodev in every
// node. A dir that is a mount point already is only remounted. unbindNosuid undoes it when
// the directory's cluster or volume goes away.
func bindNosuid(dir string) error {
	mounted, err := isMounted(dir)
	if err != nil {
		return err
	}
	if !mounted {
		if err := unix.Mount(dir, dir, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind %s: %w", dir, err)
		}
	}
	if err := unix.Mount("", dir, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
		if !mounted {
			_ = unix.Unmount(dir, unix.MNT_DETACH)
		}
		return fmt.Errorf("remount %s nosuid,nodev: %w", dir, err)
	}
	return nil
}

// unbindNosuid removes the mount bindNosuid made, if any.
func unbindNosuid(dir string) error {
	mounted, err := isMounted(dir)
	if err != nil || !mounted {
		return err
	}
	if err := unmount(dir); err != nil && !errors.Is(err, unix.EINVAL) {
		return err
	}
	return nil
}

// privateConsole makes an instance's console.log (which shows its boot, logins included)
// readable by root only, before the container writes to it.
func privateConsole(instanceDir string) error {
	f, err := os.OpenFile(filepath.Join(instanceDir, "console.log"), os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("console log: %w", err)
	}
	return errors.Join(f.Chmod(0o600), f.Close())
}

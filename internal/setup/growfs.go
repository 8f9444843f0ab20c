package setup

import (
	"fmt"
	"regexp"

	"github.com/clusterctl/clusterctl/internal/remote"
)

// mountPathRE is the shape a mount path must have before it reaches a root shell: it may come
// back from the cloud (a cluster's record), which is not trusted.
var mountPathRE = regexp.MustCompile(`^/[A-Za-z0-9._/-]+$`)

// GrowFSScript grows the filesystem mounted at mountPath to the size of its volume, after the
// volume grew (resizevolume): the partition first when the filesystem is on one (growpart,
// from cloud-guest-utils), then ext2/3/4 with resize2fs or xfs with xfs_growfs, both online.
// It does nothing when the filesystem fills its device already. Unless strict, anything it
// cannot do (no growpart, another filesystem type) is left alone with a note instead of
// failing, so setup can run it on every mount.
func GrowFSScript(mountPath string, strict bool) (string, error) {
	if !mountPathRE.MatchString(mountPath) {
		return "", fmt.Errorf("mount path %q is not a plain absolute path", mountPath)
	}
	giveUp := "exit 0"
	if strict {
		giveUp = "exit 1"
	}
	return fmt.Sprintf(`set -e
m=%s
mountpoint -q "$m" || { echo "$m is not mounted" >&2; exit 1; }
src=$(findmnt -no SOURCE --target "$m")
fs=$(findmnt -no FSTYPE --target "$m")
if [ "$(lsblk -dno TYPE "$src")" = part ]; then
  disk=/dev/$(lsblk -dno PKNAME "$src")
  num=$(cat "/sys/class/block/$(basename "$src")/partition")
  if command -v growpart >/dev/null; then
    growpart "$disk" "$num" >/dev/null || [ $? -eq 1 ]
  else
    echo "cannot grow partition $src: install cloud-guest-utils (growpart)" >&2; %s
  fi
fi
case "$fs" in
  ext2|ext3|ext4) resize2fs "$src" 2>&1 ;;
  xfs) xfs_growfs "$m" >/dev/null ;;
  *) echo "cannot grow a $fs filesystem on $m" >&2; %s ;;
esac`, remote.Quote(mountPath), giveUp, giveUp), nil
}

package setup

import (
	"fmt"
	"strings"

	"github.com/clusterctl/clusterctl/internal/remote"
)

// Setup runs as root, and a user's home belongs to the user: a batch user can replace
// ~/.ssh/authorized_keys with a link to /etc/cron.d/x, or ~/.ssh/id_ed25519.pub with one to
// /etc/shadow, and root following either hands the user root. So root only creates a home
// that does not exist yet (in the root-owned /home, right after useradd: nothing of the user's
// can be there), and does everything inside a home as the user, through runuser. A link then
// reaches only what the user could reach anyway.

// RunAsUser is a shell command running script as user (a shell word, such as "$u") with the
// given arguments (shell words too), in sh -c, without a login shell: runuser works for
// accounts whose shell is nologin and does not read the user's dotfiles.
func RunAsUser(user, script string, args ...string) string {
	return fmt.Sprintf("runuser -u %s -- sh -c %s sh %s", user, remote.Quote(script), strings.Join(args, " "))
}

// NewHomeScript creates the home directory (a shell word) of user (a shell word) when nothing
// is at that path: root makes the empty directory and gives it to the user, and the user
// copies /etc/skel into it.
func NewHomeScript(user, home string) string {
	return fmt.Sprintf(`if [ ! -e %[2]s ] && [ ! -L %[2]s ]; then
  mkdir -p -- "$(dirname -- %[2]s)"
  mkdir -m 750 -- %[2]s
  chown -h "$(id -u %[1]s):$(id -g %[1]s)" %[2]s
  runuser -u %[1]s -- cp -rT /etc/skel %[2]s
fi`, user, home)
}

// UserKeysScript runs as a user (see RunAsUser) with the home as $1, a key comment as $2 and
// public keys to authorize after them: it makes the user's ed25519 key when missing and
// authorizes it, and the given keys, for the user's own logins.
const UserKeysScript = `set -e
umask 077
h=$1 c=$2
shift 2
mkdir -p "$h/.ssh"
chmod 700 "$h/.ssh"
[ -f "$h/.ssh/id_ed25519" ] || ssh-keygen -q -t ed25519 -N "" -C "$c" -f "$h/.ssh/id_ed25519"
touch "$h/.ssh/authorized_keys"
chmod 600 "$h/.ssh/authorized_keys"
for k in "$(cat "$h/.ssh/id_ed25519.pub")" "$@"; do
  grep -qxF -- "$k" "$h/.ssh/authorized_keys" || printf '%s\n' "$k" >> "$h/.ssh/authorized_keys"
done`

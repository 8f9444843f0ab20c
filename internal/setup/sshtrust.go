package setup

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/clusterctl/clusterctl/internal/remote"
)

// sshTrust gives root and the cluster user passwordless SSH between all nodes: keys made once on
// the master (root's copied to every node, the user's shared through /home), and
// /etc/ssh/ssh_known_hosts built from the host keys clusterctl generated, so nothing is
// scanned or trusted blindly. The user's own key also logs in as the cluster user.
type sshTrust struct{}

func (sshTrust) Name() string { return "passwordless SSH" }
func (sshTrust) Run(ctx context.Context, c *Cluster) error {
	return c.trust(ctx, c.Nodes, c.Nodes)
}

// addSSHTrust trusts new nodes everywhere: every node learns their host keys, new nodes learn
// all and get root's key.
func addSSHTrust(ctx context.Context, c *Cluster, added []*Node) error {
	return c.trust(ctx, c.Nodes, added)
}

// trust makes the keys on the master, then on every node in nodes writes the known host lines
// (all of them for fresh nodes, only the fresh ones elsewhere) and, on fresh workers, root's key.
func (c *Cluster) trust(ctx context.Context, nodes, fresh []*Node) error {
	m := c.Master()
	res, err := c.Sudo(ctx, m, masterKeysScript(c.User, c.UserKeys))
	if err != nil {
		return fmt.Errorf("make SSH keys on %s: %w", m.Alias, err)
	}
	rootKey, rootPub, err := splitKeys(res.Stdout)
	if err != nil {
		return err
	}
	isFresh := map[string]bool{}
	for _, n := range fresh {
		isFresh[n.ID] = true
	}
	all, news := knownHostsEdit(c.Nodes, c.HostKeys, nil).Script(), knownHostsEdit(fresh, c.HostKeys, nil).Script()
	err = c.ForEach(ctx, "passwordless SSH", nodes, func(ctx context.Context, n *Node) error {
		script := news
		if isFresh[n.ID] {
			script = all
		}
		if _, err := c.Sudo(ctx, n, script); err != nil {
			return err
		}
		if n.IsMaster() || !isFresh[n.ID] {
			return nil
		}
		return installRootKey(ctx, c, n, rootKey, rootPub)
	})
	if err != nil {
		return err
	}
	var workers []string
	for _, n := range fresh {
		if !n.IsMaster() {
			workers = append(workers, n.Alias)
		}
	}
	if len(workers) == 0 {
		return nil
	}
	// A cluster user whose home is not on the shared /home (an explicit CLUSTER_USER =
	// sgeadmin lives in /var/lib/gridengine) gets its keys copied from the master, over
	// root's SSH, in one command.
	_, err = c.Sudo(ctx, m, copyUserKeysScript(c.User, workers))
	return err
}

// copyUserKeysScript copies the cluster user's key pair and authorized_keys from the master to
// the workers when the home is not under the shared /home (CLUSTER_USER = sgeadmin lives in
// /var/lib/gridengine). The files are read and written as the user on both ends; root only
// creates a missing home.
func copyUserKeysScript(user string, workers []string) string {
	return fmt.Sprintf(`set -e
u=%s
h=$(getent passwd "$u" | cut -d: -f6)
case "$h" in /home/*) exit 0 ;; esac
case "$h" in /*) ;; *) echo "home of $u is not an absolute path: $h" >&2; exit 1 ;; esac
case "$u$h" in *[!A-Za-z0-9/._-]*) echo "home of $u has unexpected characters: $h" >&2; exit 1 ;; esac
for n in %s; do
  runuser -u "$u" -- tar -C "$h" --no-recursion -cf - .ssh .ssh/id_ed25519 .ssh/id_ed25519.pub .ssh/authorized_keys |
    ssh -o BatchMode=yes "root@$n" "h='$h' u='$u'; [ -d \"\$h\" ] || { mkdir -p -- \"\$h\"; chown -h \"\$u:\" \"\$h\"; }; runuser -u \"\$u\" -- tar -C \"\$h\" -xf -"
done`, remote.Quote(user), remote.QuoteArgs(workers...))
}

// masterKeysScript makes root's key when missing and authorizes it, has the cluster user make
// and authorize theirs (and the user's own keys) as the user, and prints root's key pair for
// the other nodes.
func masterKeysScript(user string, userKeys []string) string {
	keys := make([]string, 0, len(userKeys))
	for _, k := range userKeys {
		keys = append(keys, remote.Quote(strings.TrimSpace(k)))
	}
	return fmt.Sprintf(`set -e
umask 077
mkdir -p /root/.ssh
[ -f /root/.ssh/id_ed25519 ] || ssh-keygen -q -t ed25519 -N '' -C root@cluster -f /root/.ssh/id_ed25519
touch /root/.ssh/authorized_keys
grep -qxF "$(cat /root/.ssh/id_ed25519.pub)" /root/.ssh/authorized_keys || cat /root/.ssh/id_ed25519.pub >> /root/.ssh/authorized_keys
u=%s
h=$(getent passwd "$u" | cut -d: -f6)
%s
cat /root/.ssh/id_ed25519
echo %s
cat /root/.ssh/id_ed25519.pub`, remote.Quote(user), RunAsUser(`"$u"`, UserKeysScript, append([]string{`"$h"`, `"$u@cluster"`}, keys...)...), keySeparator)
}

const keySeparator = "-----CLUSTERCTL PUBLIC-----"

// splitKeys separates the private and public key printed by masterKeysScript.
func splitKeys(out string) (private, public []byte, err error) {
	priv, pub, ok := strings.Cut(out, keySeparator+"\n")
	if !ok || !strings.Contains(priv, "PRIVATE KEY") {
		return nil, nil, fmt.Errorf("unexpected output while reading root's SSH key from the master")
	}
	return []byte(priv), []byte(strings.TrimSpace(pub) + "\n"), nil
}

// installRootKey gives a node root's key pair in one command: the private key goes on the
// command's standard input (never on a command line, where other users could see it) into a
// file made in root's own .ssh and renamed into place; the public key is an argument.
func installRootKey(ctx context.Context, c *Cluster, n *Node, private, public []byte) error {
	client, err := c.Client(ctx, n)
	if err != nil {
		return err
	}
	_, err = client.RunWith(ctx, rootKeyScript(string(public)), remote.RunOpts{Sudo: true, Stdin: bytes.NewReader(private)})
	return err
}

// rootKeyScript installs the private key read from standard input and pub as root's key pair
// and authorizes pub, changing nothing that is already so.
func rootKeyScript(pub string) string {
	return fmt.Sprintf(`set -e
umask 077
install -d -m 700 /root/.ssh
t=$(mktemp /root/.ssh/.id_ed25519.XXXXXXXXXX)
trap 'rm -f -- "$t"' EXIT
cat > "$t"
mv -f -- "$t" /root/.ssh/id_ed25519
printf '%%s\n' %[1]s > "$t"
chmod 644 "$t"
mv -f -- "$t" /root/.ssh/id_ed25519.pub
touch /root/.ssh/authorized_keys; chmod 600 /root/.ssh/authorized_keys
grep -qxF %[1]s /root/.ssh/authorized_keys || printf '%%s\n' %[1]s >> /root/.ssh/authorized_keys`, remote.Quote(strings.TrimSpace(pub)))
}

// knownHostsEdit adds "alias,address key" lines for nodes whose host key is known.
func knownHostsEdit(nodes []*Node, keys map[string]string, drop []string) blockEdit {
	var lines []string
	for _, n := range nodes {
		k := keys[n.Alias]
		if k == "" {
			k = n.HostKey
		}
		if k == "" {
			continue
		}
		names := []string{n.Alias, n.PrivateIP}
		if n.PublicIP != "" {
			names = append(names, n.PublicIP)
		}
		lines = append(lines, strings.Join(names, ",")+" "+k)
	}
	sort.Strings(lines)
	return blockEdit{File: "/etc/ssh/ssh_known_hosts", KeyField: 1, Add: lines, Drop: drop}
}

package setup

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/clusterctl/clusterctl/internal/remote"
)

// clusterUser creates the cluster user with the same UID and GID on every node. An existing
// /home/USER (from a volume) keeps its owner, so data on it stays the user's.
type clusterUser struct{}

func (clusterUser) Name() string { return "cluster user" }
func (clusterUser) Run(ctx context.Context, c *Cluster) error {
	if err := c.resolveUID(ctx); err != nil {
		return err
	}
	return addClusterUser(ctx, c, c.Nodes)
}

func addClusterUser(ctx context.Context, c *Cluster, nodes []*Node) error {
	if c.UID == 0 {
		if err := c.resolveUID(ctx); err != nil {
			return err
		}
	}
	return c.ForEach(ctx, "cluster user "+c.User, nodes, func(ctx context.Context, n *Node) error {
		_, err := c.Sudo(ctx, n, userScript(c.User, c.Shell, c.UID, c.GID, n.IsMaster()))
		return err
	})
}

// resolveUID decides the cluster user's UID and GID on the master: the owner of an existing
// /home/USER, else the existing account's, else the first regular UID after those in use.
func (c *Cluster) resolveUID(ctx context.Context) error {
	m := c.Master()
	if m == nil {
		return errNoMaster
	}
	res, err := c.Sudo(ctx, m, uidProbeScript(c.User))
	if err != nil {
		return err
	}
	f := strings.Fields(res.Stdout)
	if len(f) != 2 {
		return fmt.Errorf("cannot tell the UID for %s from %q", c.User, res.Stdout)
	}
	uid, err1 := strconv.Atoi(f[0])
	gid, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		return fmt.Errorf("cannot tell the UID for %s from %q", c.User, res.Stdout)
	}
	if uid == 0 {
		return fmt.Errorf("/home/%s belongs to root; give it to a regular user or choose another CLUSTER_USER", c.User)
	}
	c.UID, c.GID = uid, gid
	return nil
}

func uidProbeScript(user string) string {
	u := remote.Quote(user)
	return fmt.Sprintf(`u=%s
if [ -d "/home/$u" ]; then stat -c '%%u %%g' "/home/$u"
elif id -u "$u" >/dev/null 2>&1; then echo "$(id -u "$u") $(id -g "$u")"
else awk -F: 'BEGIN { m = 1000 } $3 >= 1000 && $3 < 60000 && $3 > m { m = $3 } END { print m + 1, m + 1 }' /etc/passwd
fi`, u)
}

// userScript creates the group and user (when missing) and, on the master, whose /home every
// node shares, the home directory from /etc/skel (NewHomeScript: root never works inside it).
func userScript(user, shell string, uid, gid int, makeHome bool) string {
	u := remote.Quote(user)
	s := fmt.Sprintf(`set -e
u=%s
getent group "$u" >/dev/null || groupadd -o -g %d "$u"
sh=$(command -v %s || echo /bin/bash)
id -u "$u" >/dev/null 2>&1 || useradd -o -u %d -g %d -s "$sh" -M -d "/home/$u" "$u"
# An existing system account (CLUSTER_USER = sgeadmin, Grid Engine's) has no login shell.
case "$(getent passwd "$u" | cut -d: -f7)" in */false|*/nologin) usermod -s "$sh" "$u" ;; esac
`, u, gid, remote.Quote(shell), uid, gid)
	if makeHome {
		s += "h=$(getent passwd \"$u\" | cut -d: -f6)\n" + NewHomeScript(`"$u"`, `"$h"`) + "\n"
	}
	return s
}

// scratch gives the cluster user /mnt/USER and /scratch/USER on every node.
type scratch struct{}

func (scratch) Name() string { return "scratch space" }
func (scratch) Run(ctx context.Context, c *Cluster) error {
	return addScratch(ctx, c, c.Nodes)
}

func addScratch(ctx context.Context, c *Cluster, nodes []*Node) error {
	script := fmt.Sprintf(`set -e
u=%s
mkdir -p "/mnt/$u" /scratch
chown -h "$u:" "/mnt/$u"
ln -sfn "/mnt/$u" "/scratch/$u"`, remote.Quote(c.User))
	return c.ForEach(ctx, "scratch space", nodes, func(ctx context.Context, n *Node) error {
		_, err := c.Sudo(ctx, n, script)
		return err
	})
}

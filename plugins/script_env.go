package plugins

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/clusterctl/clusterctl/internal/setup"
)

// Exact shapes of the facts a script plugin gets in its environment. They come from the
// cluster's record and the provider, which are read back from the cloud and not trusted, so
// each is checked before it reaches the root shell that runs the script.
var (
	aliasRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,62}$`)
	tagRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	mountRE = regexp.MustCompile(`^/[A-Za-z0-9._/-]+$`)
)

// scriptEnv is the cluster's facts for a hook running on node n, as NAME=value items:
//
//	CLUSTERCTL_TAG          the cluster's tag
//	CLUSTERCTL_PLUGIN       the [plugin NAME] section's name
//	CLUSTERCTL_HOOK         run, on_add_node, on_remove_node, on_restart or on_shutdown
//	CLUSTERCTL_PLUGIN_DIR   the directory holding the hook's script and FILES (the working directory)
//	CLUSTERCTL_NODE         this node's alias (its host name in the cluster)
//	CLUSTERCTL_ROLE         master or node
//	CLUSTERCTL_MASTER       the master's alias
//	CLUSTERCTL_MASTER_ADDR  the master's private address
//	CLUSTERCTL_NODES        every node's alias, space-separated, master first (without the
//	                        nodes being removed, in on_remove_node)
//	CLUSTERCTL_HOOK_NODES   the nodes being added or removed (on_add_node, on_remove_node)
//	CLUSTERCTL_USER         the cluster user
//	CLUSTERCTL_VOLUMES      the volumes' mount paths, space-separated
func scriptEnv(c *setup.Cluster, plugin, hook, dir string, n *setup.Node, changed []*setup.Node) ([]string, error) {
	m := c.Master()
	if m == nil {
		return nil, fmt.Errorf("the cluster has no running master")
	}
	check := func(what, v string, re *regexp.Regexp) error {
		if !re.MatchString(v) {
			return fmt.Errorf("%s %q is not safe to pass to a script", what, v)
		}
		return nil
	}
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(check("cluster tag", c.Tag, tagRE))
	add(check("plugin name", plugin, tagRE))
	add(check("cluster user", c.User, validUserName))
	aliases := func(nodes []*setup.Node) string {
		names := make([]string, 0, len(nodes))
		for _, x := range nodes {
			add(check("node alias", x.Alias, aliasRE))
			names = append(names, x.Alias)
		}
		return strings.Join(names, " ")
	}
	everyone := append([]*setup.Node{m}, c.Workers()...)
	if hook == "on_remove_node" { // the nodes that stay
		gone := map[string]bool{}
		for _, x := range changed {
			gone[x.ID] = true
		}
		everyone = slices.DeleteFunc(everyone, func(x *setup.Node) bool { return gone[x.ID] })
	}
	all := aliases(everyone)
	var mounts []string
	for _, v := range c.Volumes {
		add(check("mount path", v.MountPath, mountRE))
		mounts = append(mounts, v.MountPath)
	}
	addr, err := netip.ParseAddr(m.PrivateIP)
	if err != nil {
		add(fmt.Errorf("master address %q is not an IP address", m.PrivateIP))
	}
	role := "node"
	if n.IsMaster() {
		role = "master"
	}
	env := []string{
		"CLUSTERCTL_TAG=" + c.Tag, "CLUSTERCTL_PLUGIN=" + plugin, "CLUSTERCTL_HOOK=" + hook,
		"CLUSTERCTL_PLUGIN_DIR=" + dir, "CLUSTERCTL_NODE=" + n.Alias, "CLUSTERCTL_ROLE=" + role,
		"CLUSTERCTL_MASTER=" + m.Alias, "CLUSTERCTL_MASTER_ADDR=" + addr.String(), "CLUSTERCTL_NODES=" + all,
		"CLUSTERCTL_HOOK_NODES=" + aliases(changed), "CLUSTERCTL_USER=" + c.User,
		"CLUSTERCTL_VOLUMES=" + strings.Join(mounts, " "),
	}
	add(check("node alias", n.Alias, aliasRE))
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return env, nil
}

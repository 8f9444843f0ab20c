package plugins

import (
	"context"
	"fmt"

	"github.com/clusterctl/clusterctl/internal/setup"
)

// users creates batch accounts (a class, a team) on every node with the same UID everywhere,
// homes on the shared /home, and an ed25519 key each that logs the user in to any node, and can
// bring the private keys back to this machine to hand out. Added nodes get the accounts too.
type users struct {
	setup.Hooks
	// err is what is wrong with the parameters, reported by the hooks that create users.
	err      error
	names    []string
	download bool
	// keysDir is where the tarball goes; "" means <LocalDir>/user_keys. The catalog's default
	// (~/.clusterctl/user_keys) is that same directory for the real CLI.
	keysDir string
}

func newUsers(p Params) *users {
	names, err := batchUserNames(p.List("usernames"), p.Int("num_users", 0))
	if err == nil && len(names) == 0 {
		err = fmt.Errorf("set num_users or usernames: there are no users to create")
	}
	return &users{err: err, names: names, download: p.Bool("download_keys", false), keysDir: p.String("download_keys_dir", "")}
}

// Name is the plugin's catalog name.
func (u *users) Name() string { return "users" }

// Run creates the accounts everywhere and, when asked, downloads their keys.
func (u *users) Run(ctx context.Context, c *setup.Cluster) error {
	accounts, err := u.ensure(ctx, c, c.Nodes)
	if err != nil {
		return err
	}
	if !u.download {
		return nil
	}
	data, err := fetchAsRoot(ctx, c, c.Master(), "the users' keys", keysTarScript(accounts))
	if err != nil {
		return err
	}
	file := localFile(c, u.keysDir, "user_keys", ".tar.gz")
	if err := saveLocal(file, data); err != nil {
		return err
	}
	infof(c, "users: private keys of %d users saved to %s", len(accounts), file)
	return nil
}

// OnAddNode creates the accounts on new nodes.
func (u *users) OnAddNode(ctx context.Context, c *setup.Cluster, nodes []*setup.Node) error {
	_, err := u.ensure(ctx, c, nodes)
	return err
}

// ensure decides the ids on the master, creates the accounts there (homes and keys included;
// nothing changes when they exist), then on the other nodes in nodes.
func (u *users) ensure(ctx context.Context, c *setup.Cluster, nodes []*setup.Node) ([]account, error) {
	if u.err != nil {
		return nil, u.err
	}
	m, err := masterOf(c)
	if err != nil {
		return nil, err
	}
	for _, n := range u.names {
		if n == c.User {
			return nil, fmt.Errorf("%s is the cluster user; choose other names", n)
		}
	}
	res, err := c.Sudo(ctx, m, idProbeScript(u.names))
	if err != nil {
		return nil, fmt.Errorf("read user ids on %s: %w", m.Alias, err)
	}
	accounts, err := assignAccounts(u.names, res.Stdout)
	if err != nil {
		return nil, err
	}
	if err := c.ForEach(ctx, fmt.Sprintf("%d users, homes and keys", len(accounts)), []*setup.Node{m}, func(ctx context.Context, n *setup.Node) error {
		_, err := c.Sudo(ctx, n, accountsScript(accounts, c.Shell, c.Tag, true))
		return err
	}); err != nil {
		return nil, err
	}
	var others []*setup.Node
	for _, n := range nodes {
		if !n.IsMaster() {
			others = append(others, n)
		}
	}
	script := accountsScript(accounts, c.Shell, c.Tag, false)
	return accounts, c.ForEach(ctx, fmt.Sprintf("%d users", len(accounts)), others, func(ctx context.Context, n *setup.Node) error {
		_, err := c.Sudo(ctx, n, script)
		return err
	})
}

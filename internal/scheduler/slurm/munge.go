package slurm

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/clusterctl/clusterctl/internal/scheduler"
)

// mungeKeyPath is where munged reads the key every host of a cluster shares.
const mungeKeyPath = "/etc/munge/munge.key"

// Sizes of a munge key: munged refuses one under 32 bytes; clusterctl makes 1024, as mungekey
// does by default.
const (
	mungeKeyMin  = 32
	mungeKeyMax  = 1 << 16
	mungeKeySize = 1024
)

// shareMungeKey gives nodes the cluster's munge key, copied over SFTP (mode 0400, owner munge)
// to each node whose key differs, and makes sure munged runs with it. The key is the master's:
// the first setup generates it on this machine (crypto/rand) and writes it to the master, so
// it never leaves the cluster's own hosts and this machine's memory.
func shareMungeKey(ctx context.Context, c scheduler.Cluster, m scheduler.Node, nodes []scheduler.Node) error {
	var key []byte
	if err := c.Step(ctx, "munge key of the cluster", func(ctx context.Context) error {
		var err error
		key, err = masterMungeKey(ctx, c, m)
		return err
	}); err != nil {
		return err
	}
	sum := sha256.Sum256(key)
	want := hex.EncodeToString(sum[:])
	return c.ForEach(ctx, "munge key", nodes, func(ctx context.Context, n scheduler.Node) error {
		have, err := c.Shell(n.Name).Run(ctx, fmt.Sprintf("if [ -f %[1]s ]; then sha256sum < %[1]s | cut -c1-64; fi", mungeKeyPath))
		if err != nil {
			return err
		}
		if strings.TrimSpace(have) == want {
			return run(ctx, c, n.Name, "systemctl enable --quiet munge\nsystemctl is-active --quiet munge || systemctl restart munge")
		}
		if err := c.WriteFile(ctx, n.Name, mungeKeyPath, key, 0o400, "munge:munge"); err != nil {
			return err
		}
		return run(ctx, c, n.Name, "systemctl enable --quiet munge\nsystemctl restart munge")
	})
}

// masterMungeKey reads the master's munge key, or generates one and writes it there.
func masterMungeKey(ctx context.Context, c scheduler.Cluster, m scheduler.Node) ([]byte, error) {
	out, err := c.Shell(m.Name).Run(ctx, fmt.Sprintf("if [ -s %[1]s ]; then base64 -w0 < %[1]s; fi", mungeKeyPath))
	if err != nil {
		return nil, err
	}
	if text := strings.TrimSpace(out); text != "" {
		key, err := base64.StdEncoding.DecodeString(text)
		if err != nil || len(key) < mungeKeyMin || len(key) > mungeKeyMax {
			return nil, fmt.Errorf("%s on %s is not a munge key (%d bytes); remove it to have a new one made", mungeKeyPath, m.Name, len(key))
		}
		return key, nil
	}
	key := make([]byte, mungeKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := c.WriteFile(ctx, m.Name, mungeKeyPath, key, 0o400, "munge:munge"); err != nil {
		return nil, err
	}
	return key, nil
}

package plugins

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/setup"
)

// masterOf returns the cluster's master, where the plugins keep what is shared (controller,
// homes, host files), or an error when none runs.
func masterOf(c *setup.Cluster) (*setup.Node, error) {
	if m := c.Master(); m != nil {
		return m, nil
	}
	return nil, fmt.Errorf("the cluster has no running master")
}

// cpuCounts asks every node in nodes for its CPU count (nproc), keyed by alias. Engines and MPI
// slots follow the machine, not the instance type's catalogue entry, so containers sharing a
// host and resized instances get the right numbers.
func cpuCounts(ctx context.Context, c *setup.Cluster, nodes []*setup.Node) (map[string]int, error) {
	var mu sync.Mutex
	out := make(map[string]int, len(nodes))
	err := c.ForEach(ctx, "count CPUs", nodes, func(ctx context.Context, n *setup.Node) error {
		res, err := c.Sudo(ctx, n, "nproc")
		if err != nil {
			return err
		}
		cpus, err := strconv.Atoi(strings.TrimSpace(res.Stdout))
		if err != nil || cpus < 1 {
			return fmt.Errorf("cannot tell the CPU count from nproc's output %q", res.Stdout)
		}
		mu.Lock()
		out[n.Alias] = cpus
		mu.Unlock()
		return nil
	})
	return out, err
}

// fetchAsRoot brings back what a root shell fragment writes to "$t" on a node (a file only root
// may read, a tarball of several): the fragment writes into a private temporary file, which
// is given to the login user, read over SFTP and removed. Secrets (private keys, controller
// keys) thus never pass through a command line or a command's output.
func fetchAsRoot(ctx context.Context, c *setup.Cluster, n *setup.Node, what, produce string) ([]byte, error) {
	login := n.Target.User
	if login == "" {
		login = "root"
	}
	res, err := c.Sudo(ctx, n, fetchScript(produce, login))
	if err != nil {
		return nil, fmt.Errorf("prepare %s on %s: %w", what, n.Alias, err)
	}
	tmp := strings.TrimSpace(res.Stdout)
	if !strings.HasPrefix(tmp, "/tmp/clusterctl-fetch.") || strings.ContainsAny(tmp, " \n") {
		return nil, fmt.Errorf("unexpected output while preparing %s on %s: %q", what, n.Alias, res.Stdout)
	}
	defer func() { _, _ = c.Sudo(context.WithoutCancel(ctx), n, "rm -f "+remote.Quote(tmp)) }()
	client, err := c.Client(ctx, n)
	if err != nil {
		return nil, err
	}
	data, err := client.ReadFile(ctx, tmp)
	if err != nil {
		return nil, fmt.Errorf("read %s from %s: %w", what, n.Alias, err)
	}
	return data, nil
}

// fetchScript runs produce with "$t" a new 0600 file in /tmp, gives the file to login and
// prints its name; the file is removed if produce fails.
func fetchScript(produce, login string) string {
	return fmt.Sprintf(`set -e
umask 077
t=$(mktemp /tmp/clusterctl-fetch.XXXXXX)
trap 'rm -f "$t"' EXIT
%s
chown -h %s "$t"
trap - EXIT
echo "$t"`, produce, remote.Quote(login))
}

// saveLocal writes data to a file on this machine readable by its owner only (0600, in a 0700
// directory it creates), atomically, so a reader never sees half a key or connection file.
func saveLocal(file string, data []byte) error {
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(file)+".*.tmp")
	if err != nil {
		return fmt.Errorf("save %s: %w", file, err)
	}
	defer os.Remove(f.Name()) // fails harmlessly once renamed
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("save %s: %w", file, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("save %s: %w", file, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save %s: %w", file, err)
	}
	if err := os.Rename(f.Name(), file); err != nil {
		return fmt.Errorf("save %s: %w", file, err)
	}
	return nil
}

// localFile names a file a plugin saves for the user on this machine:
// <dir>/<tag>-<region><ext>, dir defaulting to <LocalDir>/<sub>.
func localFile(c *setup.Cluster, dir, sub, ext string) string {
	if dir == "" {
		dir = filepath.Join(c.LocalDir, sub)
	}
	region := c.Region
	if region == "" {
		region = "local"
	}
	return filepath.Join(dir, c.Tag+"-"+region+ext)
}

// infof prints a line in the status output (where the user looks), or logs it when there is
// no status output.
func infof(c *setup.Cluster, format string, args ...any) {
	if c.Status != nil {
		c.Status.Infof(format, args...)
		return
	}
	if c.Log != nil {
		c.Log.Info(fmt.Sprintf(format, args...))
	}
}

// warnf is infof for things that did not work out but do not stop the plugin.
func warnf(c *setup.Cluster, format string, args ...any) {
	if c.Status != nil {
		c.Status.Warnf(format, args...)
		return
	}
	if c.Log != nil {
		c.Log.Warn(fmt.Sprintf(format, args...))
	}
}

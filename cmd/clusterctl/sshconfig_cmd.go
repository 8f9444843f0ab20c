package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/remote"
)

func newSSHConfigCmd(a *app) *cobra.Command {
	var output, user string
	cmd := &cobra.Command{
		Use:   "ssh-config TAG",
		Short: "Print OpenSSH Host blocks for a cluster's nodes",
		Long: heredoc.Doc(`
			Print (or write with -o) OpenSSH configuration for every running node of the
			cluster, named TAG-master, TAG-node001, ...: its address, user, the cluster's key,
			the known_hosts file clusterctl pinned the host keys in (and strict checking), and
			the jump through the master for nodes without an address of their own, and a
			shared connection per node (ControlMaster, kept 10 minutes). Include the file from
			~/.ssh/config and ssh, scp, rsync, ansible and ipyparallel's SSH tunnels reach the
			nodes verified, as clusterctl does (as vagrant ssh-config and gcloud compute
			config-ssh do). Run it again after nodes change.`),
		Example: heredoc.Doc(`
			clusterctl ssh-config mycluster
			clusterctl ssh-config -o ~/.ssh/clusterctl-mycluster mycluster   # then: Include clusterctl-mycluster in ~/.ssh/config
			ssh mycluster-node001 uptime
			rsync -a results/ clusteruser@mycluster-master:results/`),
		Args:              exactArgs(1, "the cluster TAG"),
		ValidArgsFunction: completeClusters(a),
		RunE: func(cmd *cobra.Command, args []string) error {
			tag := args[0]
			acc, err := a.access(cmd.Context(), tag)
			if err != nil {
				return err
			}
			var hosts []remote.SSHConfigHost
			for _, in := range acc.Instances {
				if in.State != cloud.StateRunning {
					continue
				}
				t, err := acc.Target(in, user)
				if err != nil {
					return err
				}
				h := remote.SSHConfigHost{Host: remote.HostAlias(tag, in.Alias), Target: t}
				if t.Jump != nil {
					h.JumpHost = remote.HostAlias(tag, t.Jump.Name)
				}
				hosts = append(hosts, h)
			}
			if len(hosts) == 0 {
				return fmt.Errorf("cluster %s has no running node", tag)
			}
			key, _ := filepath.Abs(acc.KeyFile)
			known, _ := filepath.Abs(acc.KnownHosts.Path())
			control := filepath.Join(a.env.Home, ".clusterctl", "ssh")
			if err := os.MkdirAll(control, 0o700); err != nil {
				return err
			}
			if len(control)+len("/%C")+controlPathExtra > maxSocketPath {
				a.streams.Status().Warnf("connection sharing left out: socket paths under %s would be too long for the system", control)
				control = ""
			}
			text, err := remote.SSHConfig(fmt.Sprintf("Cluster %s, written by `clusterctl ssh-config %s`; run it again after nodes change.", tag, tag),
				hosts, key, known, control)
			if err != nil {
				return err
			}
			if output == "" {
				_, err := fmt.Fprint(a.streams.SafeOut(), text)
				return err
			}
			path := a.env.ExpandPath(output)
			if err := writePrivate(path, []byte(text)); err != nil {
				return err
			}
			a.streams.Status().Donef("wrote %s to %s", plural(len(hosts), "Host block"), path)
			a.streams.Status().Infof("Add `Include %s` to ~/.ssh/config, then e.g. `ssh %s`.", path, hosts[0].Host)
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output-file", "o", "", "write the blocks to this file (mode 0600) instead of printing them")
	cmd.Flags().StringVarP(&user, "user", "u", "", "log in as this user (default: the image's login user)")
	return cmd
}

// Unix socket paths are limited to 108 bytes (104 on some systems); ssh's ControlPath %C is a
// 40-character hash, and ssh adds a temporary 17-character suffix while it binds.
const (
	maxSocketPath    = 104
	controlPathExtra = 40 - len("%C") + 17
)

// writePrivate writes a file readable by its owner only, atomically, creating its directory.
func writePrivate(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

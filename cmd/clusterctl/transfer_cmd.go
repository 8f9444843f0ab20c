package main

import (
	"context"
	"fmt"
	"os"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/ui"
)

// transferOptions are put's and get's flags.
type transferOptions struct {
	user string
	node string
}

func addTransferFlags(cmd *cobra.Command, o *transferOptions) {
	cmd.Flags().StringVarP(&o.user, "user", "u", "", "transfer as this user (default: the image's login user)")
	cmd.Flags().StringVarP(&o.node, "node", "n", "", "node to transfer to or from (default: the master)")
}

// transferClient connects to the node a put or get works on.
func (a *app) transferClient(ctx context.Context, tag string, o transferOptions) (*remote.Client, error) {
	acc, err := a.access(ctx, tag)
	if err != nil {
		return nil, err
	}
	in, err := acc.Master()
	if o.node != "" {
		in, err = acc.Find(o.node)
	}
	if err != nil {
		return nil, &notFoundError{msg: err.Error()}
	}
	t, err := acc.Target(in, o.user)
	if err != nil {
		return nil, err
	}
	return remote.Connect(ctx, t, acc.Options())
}

// progress returns a progress callback drawing a bar on a terminal, and a func to end it.
func (a *app) progress(description string) (remote.ProgressFunc, func()) {
	var bar *ui.Progress
	var last int64
	return func(done, total int64) {
			if bar == nil {
				bar = ui.NewProgress(a.streams, total, description)
			}
			if done > last {
				_ = bar.Add(done - last)
				last = done
			}
		}, func() {
			if bar != nil {
				_ = bar.Close()
			}
		}
}

func newPutCmd(a *app) *cobra.Command {
	var o transferOptions
	cmd := &cobra.Command{
		Use:   "put TAG LOCAL... REMOTE",
		Short: "Copy files and directories to a cluster node",
		Long: heredoc.Doc(`
			Copy local files and directories (recursively, permissions kept) to REMOTE on the
			master, or on another node with -n. With several LOCAL paths REMOTE must be a
			directory. Each file lands atomically: a reader never sees half of it.`),
		Example: heredoc.Doc(`
			clusterctl put mycluster data.tar.gz /home/clusteruser/
			clusterctl put -u clusteruser mycluster inputs/ scripts/ /home/clusteruser/job/`),
		Args:              minArgs(3, "the cluster TAG, at least one LOCAL path and a REMOTE destination"),
		ValidArgsFunction: completeClusters(a),
		RunE: func(cmd *cobra.Command, args []string) error {
			locals, dest := args[1:len(args)-1], args[len(args)-1]
			for _, l := range locals {
				if _, err := os.Stat(l); err != nil {
					return usageErrorf(fmt.Sprintf("local path %s: %v", l, err))
				}
			}
			client, err := a.transferClient(cmd.Context(), args[0], o)
			if err != nil {
				return err
			}
			defer client.Close()
			progress, done := a.progress("upload")
			err = client.Put(cmd.Context(), locals, dest, remote.TransferOpts{Progress: progress})
			done()
			if err != nil {
				return err
			}
			a.streams.Status().Donef("copied %s to %s:%s", plural(len(locals), "path"), client.Target().Name, dest)
			return nil
		},
	}
	addTransferFlags(cmd, &o)
	return cmd
}

func newGetCmd(a *app) *cobra.Command {
	var o transferOptions
	cmd := &cobra.Command{
		Use:   "get TAG REMOTE... LOCAL",
		Short: "Copy files and directories from a cluster node",
		Long: heredoc.Doc(`
			Copy files and directories (recursively, permissions kept) from the master, or from
			another node with -n, to LOCAL. REMOTE paths may be globs, expanded on the node;
			a pattern that matches nothing is an error. Nothing is written outside LOCAL:
			symlinks pointing outside what is copied are left out, with a warning.`),
		Example: heredoc.Doc(`
			clusterctl get mycluster '/home/clusteruser/results/*.csv' ./results/
			clusterctl get -n node001 mycluster /var/log/syslog .`),
		Args:              minArgs(3, "the cluster TAG, at least one REMOTE path and a LOCAL destination"),
		ValidArgsFunction: completeClusters(a),
		RunE: func(cmd *cobra.Command, args []string) error {
			remotes, dest := args[1:len(args)-1], args[len(args)-1]
			client, err := a.transferClient(cmd.Context(), args[0], o)
			if err != nil {
				return err
			}
			defer client.Close()
			progress, done := a.progress("download")
			err = client.Get(cmd.Context(), remotes, dest, remote.TransferOpts{Progress: progress,
				OnSkip: func(p, why string) { a.streams.Status().Warnf("not copied: %s: %s", p, why) }})
			done()
			if err != nil {
				return err
			}
			a.streams.Status().Donef("copied %s from %s to %s", plural(len(remotes), "path"), client.Target().Name, dest)
			return nil
		},
	}
	addTransferFlags(cmd, &o)
	return cmd
}

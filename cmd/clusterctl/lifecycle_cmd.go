package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cluster"
	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/ui"
)

// confirmed asks before a destructive action unless --confirm/-y was given; without a terminal
// to ask on, it fails and names the flag.
func confirmed(a *app, yes bool, question string) error {
	if yes {
		return nil
	}
	ok, err := ui.Confirm(a.streams, question)
	if err != nil {
		return usageErrorf(err.Error())
	}
	if !ok {
		return &silentError{code: exitError}
	}
	return nil
}

func addConfirmFlags(cmd *cobra.Command, yes *bool) {
	cmd.Flags().BoolVarP(yes, "confirm", "c", false, "do not ask for confirmation")
	cmd.Flags().BoolVarP(yes, "yes", "y", false, "do not ask for confirmation (same as --confirm)")
}

func newStopCmd(a *app) *cobra.Command {
	var yes, terminateSpot, force bool
	cmd := &cobra.Command{
		Use:   "stop TAG...",
		Short: "Stop a cluster's instances, keeping their disks",
		Long: heredoc.Doc(`
			Stop every on-demand instance of the cluster. Their disks are kept and billing for
			the instances stops; bring the cluster back with start -x TAG. Spot instances
			cannot be stopped: -t terminates them and stops the rest.`),
		Example: heredoc.Doc(`
			clusterctl stop mycluster
			clusterctl stop -t -y spotcluster
			clusterctl stop -f -y unreachable
			clusterctl start -x mycluster`),
		Args:              minArgs(1, "at least one cluster TAG"),
		ValidArgsFunction: completeClusters(a),
		RunE: func(cmd *cobra.Command, tags []string) error {
			return a.windDown(cmd.Context(), tags, yes, force, "Stop cluster %s?", func(eng *cluster.Engine, tag string) error {
				if err := eng.Stop(cmd.Context(), tag, terminateSpot); err != nil {
					return err
				}
				a.streams.Status().Donef("cluster %s is stopped; start it again with `clusterctl start -x %s`", tag, tag)
				return nil
			})
		},
	}
	addConfirmFlags(cmd, &yes)
	cmd.Flags().BoolVarP(&terminateSpot, "terminate-unstoppable", "t", false, "terminate spot instances, which cannot be stopped")
	addForceFlag(cmd, &force, "stop")
	return cmd
}

// addForceFlag adds StarCluster's -f/--force to stop and terminate: go on past unreachable
// nodes and failed shutdown hooks instead of stopping there.
func addForceFlag(cmd *cobra.Command, force *bool, verb string) {
	cmd.Flags().BoolVarP(force, "force", "f", false, verb+" even when nodes are unreachable or plugins' shutdown hooks fail")
}

func newTerminateCmd(a *app) *cobra.Command {
	var yes, force bool
	cmd := &cobra.Command{
		Use:   "terminate TAG...",
		Short: "Remove a cluster: instances, spot requests and security group",
		Long: heredoc.Doc(`
			Terminate every instance of the cluster, cancel its spot requests and delete its
			security group, so nothing keeps charging. Volumes are detached first and never
			deleted. Only resources tagged with the cluster are touched; running terminate
			again on a removed cluster is harmless.

			Plugins' shutdown hooks run first; when one fails (or a node cannot be reached),
			terminate stops and says so. -f goes on past such failures.`),
		Example: heredoc.Doc(`
			clusterctl terminate mycluster
			clusterctl terminate -y test-bid old-cluster
			clusterctl terminate -f -y broken`),
		Args:              minArgs(1, "at least one cluster TAG"),
		ValidArgsFunction: completeClusters(a),
		RunE: func(cmd *cobra.Command, tags []string) error {
			question := "Terminate cluster %s? Its instances and their root disks are deleted (volumes are kept)."
			return a.windDown(cmd.Context(), tags, yes, force, question, func(eng *cluster.Engine, tag string) error {
				err := eng.Terminate(cmd.Context(), tag)
				switch {
				case errors.Is(err, cluster.ErrClusterNotFound):
					a.streams.Status().Infof("%v: nothing to terminate", err)
				case err != nil:
					return err
				default:
					a.streams.Status().Donef("cluster %s is terminated", tag)
				}
				return nil
			})
		},
	}
	addConfirmFlags(cmd, &yes)
	addForceFlag(cmd, &force, "terminate")
	return cmd
}

func dash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// windDown stops or terminates clusters one by one: it asks (question has one %s for the tag)
// unless yes, runs the plugins' shutdown hooks, then act. A failed hook stops it unless
// force, as in StarCluster.
func (a *app) windDown(ctx context.Context, tags []string, yes, force bool, question string, act func(*cluster.Engine, string) error) error {
	for _, tag := range tags {
		eng, err := a.engineFor(ctx, tag)
		if err != nil {
			return err
		}
		if err := confirmed(a, yes, fmt.Sprintf(question, tag)); err != nil {
			return err
		}
		if err := a.shutdownHooks(ctx, eng, tag, force); err != nil {
			return err
		}
		if err := act(eng, tag); err != nil {
			return err
		}
	}
	return nil
}

// shutdownHooks runs the cluster's plugins' on-shutdown hooks before it stops or goes away,
// bounded in time so an unreachable node cannot hold the command. A failure stops the command
// (saying how to go on) unless force, which only warns.
func (a *app) shutdownHooks(ctx context.Context, eng *cluster.Engine, tag string, force bool) error {
	hctx, cancel := context.WithTimeout(ctx, shutdownHookTimeout)
	defer cancel()
	err := eng.Shutdown(hctx, tag, a.setupOptions(hctx))
	var (
		recErr *cluster.RecordError
		dupErr *cluster.DuplicateAliasError
		pinErr *remote.PinConflictError
	)
	switch {
	case err == nil, errors.Is(err, cluster.ErrClusterNotFound):
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, cloud.ErrRecordTampered), errors.As(err, &recErr), errors.As(err, &dupErr), errors.As(err, &pinErr):
		// A cluster whose tags were tampered with is not logged in to, so its hooks cannot
		// run; stopping or terminating it must still be possible.
		a.streams.Status().Warnf("plugins' shutdown hooks skipped: %v", err)
		return nil
	case force:
		a.streams.Status().Warnf("plugins' shutdown hooks failed (going on, -f): %v", err)
		return nil
	}
	return fmt.Errorf("plugins' shutdown hooks failed on cluster %s: %w; nothing was stopped or terminated (use -f to go on anyway)", tag, err)
}

// shutdownHookTimeout bounds the plugins' shutdown hooks of stop and terminate.
const shutdownHookTimeout = 2 * time.Minute

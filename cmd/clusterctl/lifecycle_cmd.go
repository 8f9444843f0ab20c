package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/cluster"
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
	var yes, terminateSpot bool
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
			clusterctl start -x mycluster`),
		Args:              minArgs(1, "at least one cluster TAG"),
		ValidArgsFunction: completeClusters(a),
		RunE: func(cmd *cobra.Command, tags []string) error {
			return a.windDown(cmd.Context(), tags, yes, "Stop cluster %s?", func(eng *cluster.Engine, tag string) error {
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
	return cmd
}

func newTerminateCmd(a *app) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "terminate TAG...",
		Short: "Remove a cluster: instances, spot requests and security group",
		Long: heredoc.Doc(`
			Terminate every instance of the cluster, cancel its spot requests and delete its
			security group, so nothing keeps charging. Volumes are detached first and never
			deleted. Only resources tagged with the cluster are touched; running terminate
			again on a removed cluster is harmless.`),
		Example: heredoc.Doc(`
			clusterctl terminate mycluster
			clusterctl terminate -y test-bid old-cluster`),
		Args:              minArgs(1, "at least one cluster TAG"),
		ValidArgsFunction: completeClusters(a),
		RunE: func(cmd *cobra.Command, tags []string) error {
			question := "Terminate cluster %s? Its instances and their root disks are deleted (volumes are kept)."
			return a.windDown(cmd.Context(), tags, yes, question, func(eng *cluster.Engine, tag string) error {
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
	return cmd
}

func newListClustersCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "listclusters [TAG...]",
		Aliases: []string{"lc"},
		Short:   "List clusters with their nodes, volumes and spot requests",
		Long: heredoc.Doc(`
			Show every cluster (or the named ones): its security group, launch time and
			uptime, VPC, subnet, zone, key pair, attached volumes, spot requests and each
			node's alias, state, instance id, address and lifecycle, with a total.`),
		Example: heredoc.Doc(`
			clusterctl listclusters
			clusterctl lc mycluster
			clusterctl listclusters --output json`),
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeClusters(a),
		RunE: func(cmd *cobra.Command, tags []string) error {
			infos, err := a.listClusters(cmd.Context(), tags)
			if err != nil {
				return err
			}
			format, _ := a.format()
			if format == ui.FormatJSON {
				return ui.PrintJSON(a.streams.SafeOut(), infos)
			}
			if len(infos) == 0 {
				a.streams.Status().Infof("No clusters.")
				return nil
			}
			w := a.streams.SafeOut()
			for i, c := range infos {
				if i > 0 {
					fmt.Fprintln(w)
				}
				fmt.Fprintf(w, "%s (security group: %s)\n", c.Tag, c.Group)
				fmt.Fprintf(w, "  Launch time:    %s\n", c.LaunchTime.Format("2006-01-02 15:04:05 MST"))
				fmt.Fprintf(w, "  Uptime:         %s\n", c.Uptime)
				fmt.Fprintf(w, "  VPC:            %s\n  Subnet:         %s\n", dash(c.VPC), dash(c.Subnet))
				fmt.Fprintf(w, "  Zone:           %s\n  Keypair:        %s\n", dash(c.Zone), dash(c.KeyPair))
				if len(c.Volumes) == 0 {
					fmt.Fprintln(w, "  EBS volumes:    none")
				} else {
					fmt.Fprintln(w, "  EBS volumes:")
					for _, v := range c.Volumes {
						fmt.Fprintf(w, "    %s on %s:%s (%s)\n", v.ID, aliasOf(c, v.AttachedTo), v.Device, v.State)
					}
				}
				fmt.Fprintf(w, "  Spot requests:  %d active\n", c.SpotRequests.Active)
				fmt.Fprintln(w, "  Cluster nodes:")
				t := ui.NewTable("alias", "state", "id", "address", "lifecycle")
				for _, n := range c.Nodes {
					t.AddRow("  "+n.Alias, n.State, n.ID, dash(firstNonEmpty(n.PublicDNS, n.PublicIP, n.PrivateIP)), string(n.Lifecycle))
				}
				if err := t.Render(w); err != nil {
					return err
				}
				fmt.Fprintf(w, "  Total nodes:    %d\n", c.Total)
			}
			return nil
		},
	}
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
// unless yes, runs the plugins' shutdown hooks, then act.
func (a *app) windDown(ctx context.Context, tags []string, yes bool, question string, act func(*cluster.Engine, string) error) error {
	for _, tag := range tags {
		eng, err := a.engineFor(ctx, tag)
		if err != nil {
			return err
		}
		if err := confirmed(a, yes, fmt.Sprintf(question, tag)); err != nil {
			return err
		}
		a.shutdownHooks(ctx, eng, tag)
		if err := act(eng, tag); err != nil {
			return err
		}
	}
	return nil
}

// shutdownHooks runs the cluster's plugins' on-shutdown hooks before it stops or goes away. It
// is best effort and bounded: an unreachable cluster must still stop, so failures only warn.
func (a *app) shutdownHooks(ctx context.Context, eng *cluster.Engine, tag string) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := eng.Shutdown(ctx, tag, a.setupOptions(ctx)); err != nil && !errors.Is(err, cluster.ErrClusterNotFound) {
		a.streams.Status().Warnf("plugins' shutdown hooks failed (continuing): %v", err)
	}
}

// listClusters describes the clusters of every provider, or only those named.
func (a *app) listClusters(ctx context.Context, tags []string) ([]cluster.Info, error) {
	ps, err := a.providers(ctx)
	if err != nil && len(ps) == 0 {
		return nil, err
	}
	if err != nil {
		a.streams.Status().Warnf("EC2 clusters not listed: %v", err)
	}
	var infos []cluster.Info
	var eng *cluster.Engine
	for _, p := range ps {
		eng = a.engine(p)
		all, err := eng.List(ctx)
		if err != nil {
			return nil, err
		}
		infos = append(infos, all...)
	}
	if len(tags) == 0 {
		return infos, nil
	}
	var out []cluster.Info
	for _, t := range tags {
		found := false
		for _, in := range infos {
			if in.Tag == t {
				out, found = append(out, in), true
			}
		}
		if !found {
			return out, &cluster.NotFoundError{Tag: t, Existing: infoTags(infos)}
		}
	}
	return out, nil
}

func infoTags(infos []cluster.Info) []string {
	out := make([]string, len(infos))
	for i, in := range infos {
		out[i] = in.Tag
	}
	return out
}

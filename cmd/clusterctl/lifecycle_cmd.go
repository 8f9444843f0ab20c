package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

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

func newListClustersCmd(a *app) *cobra.Command {
	var showSSH bool
	cmd := &cobra.Command{
		Use:     "listclusters [TAG...]",
		Aliases: []string{"lc"},
		Short:   "List clusters with their nodes, volumes and spot requests",
		Long: heredoc.Doc(`
			Show every cluster (or the named ones): its security group, description, launch
			time and uptime, VPC, subnet, zone, key pair, attached volumes, spot requests and
			each node's alias, state, instance id, address and lifecycle, with a total. -s
			also logs in to every running node (host keys verified) and shows whether SSH is
			up.`),
		Example: heredoc.Doc(`
			clusterctl listclusters
			clusterctl lc -s mycluster
			clusterctl listclusters --output json`),
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeClusters(a),
		RunE: func(cmd *cobra.Command, tags []string) error {
			infos, err := a.listClusters(cmd.Context(), tags, showSSH)
			if err != nil {
				return err
			}
			switch {
			case a.ec2NotAsked != nil && len(infos) == 0:
				a.streams.Status().Warnf("EC2 was not asked: %v", a.ec2NotAsked)
			case a.ec2NotAsked != nil:
				a.streams.Status().Infof("Local clusters only: EC2 was not asked (no AWS credentials found).")
			}
			format, _ := a.format()
			if format == ui.FormatJSON {
				return ui.PrintJSON(a.streams.SafeOut(), infos) // [] when there are none
			}
			if len(infos) == 0 && a.ec2NotAsked != nil {
				a.streams.Status().Infof("No local clusters (EC2 was not asked).")
				return nil
			}
			if len(infos) == 0 {
				a.streams.Status().Infof("No clusters.")
				return nil
			}
			return printClusters(a, infos, showSSH)
		},
	}
	cmd.Flags().BoolVarP(&showSSH, "show-ssh-status", "s", false, "check whether SSH is up on every running node")
	return cmd
}

// clusterListing is one cluster as listclusters shows it: the engine's description and, with
// -s, each running node's SSH state by alias.
type clusterListing struct {
	cluster.Info
	SSH map[string]string `json:"ssh,omitempty"`
}

func printClusters(a *app, infos []clusterListing, showSSH bool) error {
	w := a.streams.SafeOut()
	for i, c := range infos {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s (security group: %s)\n", c.Tag, c.Group)
		if c.Description != "" {
			fmt.Fprintf(w, "  Description:    %s\n", printable(c.Description))
		}
		fmt.Fprintf(w, "  Launch time:    %s\n", c.LaunchTime.Format("2006-01-02 15:04:05 MST"))
		fmt.Fprintf(w, "  Uptime:         %s\n", c.Uptime)
		fmt.Fprintf(w, "  VPC:            %s\n  Subnet:         %s\n", dash(c.VPC), dash(c.Subnet))
		fmt.Fprintf(w, "  Zone:           %s\n  Keypair:        %s\n", dash(c.Zone), dash(c.KeyPair))
		if len(c.Volumes) == 0 {
			fmt.Fprintln(w, "  EBS volumes:    none")
		} else {
			fmt.Fprintln(w, "  EBS volumes:")
			for _, v := range c.Volumes {
				fmt.Fprintf(w, "    %s on %s:%s (%s)\n", v.ID, aliasOf(c.Info, v.AttachedTo), v.Device, v.State)
			}
		}
		fmt.Fprintf(w, "  Spot requests:  %d active\n", c.SpotRequests.Active)
		fmt.Fprintln(w, "  Cluster nodes:")
		headers := []string{"alias", "state", "id", "address", "lifecycle"}
		if showSSH {
			headers = append(headers, "ssh")
		}
		t := ui.NewTable(headers...)
		for _, n := range c.Nodes {
			row := []string{"  " + n.Alias, n.State, n.ID, dash(firstNonEmpty(n.PublicDNS, n.PublicIP, n.PrivateIP)), string(n.Lifecycle)}
			if showSSH {
				row = append(row, dash(c.SSH[n.Alias]))
			}
			t.AddRow(row...)
		}
		if err := t.Render(w); err != nil {
			return err
		}
		fmt.Fprintf(w, "  Total nodes:    %d\n", c.Total)
	}
	return nil
}

// printable shows text read back from the cloud (a recorded description) with control
// characters escaped, so it cannot drive the terminal.
func printable(s string) string {
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.Quote(s)
			return q[1 : len(q)-1]
		}
	}
	return s
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
	switch {
	case err == nil, errors.Is(err, cluster.ErrClusterNotFound):
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case force:
		a.streams.Status().Warnf("plugins' shutdown hooks failed (going on, -f): %v", err)
		return nil
	}
	return fmt.Errorf("plugins' shutdown hooks failed on cluster %s: %w; nothing was stopped or terminated (use -f to go on anyway)", tag, err)
}

// shutdownHookTimeout bounds the plugins' shutdown hooks of stop and terminate.
const shutdownHookTimeout = 2 * time.Minute

// listClusters describes the clusters of every provider, or only those named, with each
// node's SSH state when asked.
func (a *app) listClusters(ctx context.Context, tags []string, showSSH bool) ([]clusterListing, error) {
	infos, engines, err := a.describeClusters(ctx, tags)
	out := make([]clusterListing, len(infos))
	for i, in := range infos {
		out[i] = clusterListing{Info: in}
		if showSSH && err == nil {
			st, serr := engines[in.Tag].SSHStatus(ctx, in.Tag, a.keyFiles(ctx))
			if serr != nil {
				return out, serr
			}
			out[i].SSH = st
		}
	}
	return out, err
}

// describeClusters describes the clusters of every provider, or only those named, with the
// engine over each cluster's provider.
func (a *app) describeClusters(ctx context.Context, tags []string) ([]cluster.Info, map[string]*cluster.Engine, error) {
	ps, ec2Err := a.providers(ctx)
	if ec2Err != nil && len(ps) == 0 {
		return nil, nil, ec2Err
	}
	a.ec2NotAsked = ec2Err
	var infos []cluster.Info
	engines := map[string]*cluster.Engine{}
	for _, p := range ps {
		eng := a.engine(p)
		all, err := eng.List(ctx)
		if err != nil {
			return nil, nil, err
		}
		for _, in := range all {
			engines[in.Tag] = eng
		}
		infos = append(infos, all...)
	}
	if len(tags) == 0 {
		return infos, engines, nil
	}
	var out []cluster.Info
	for _, t := range tags {
		found := false
		for _, in := range infos {
			if in.Tag == t {
				out, found = append(out, in), true
			}
		}
		if !found && ec2Err != nil {
			return out, engines, notHere(t, ec2Err)
		}
		if !found {
			return out, engines, &cluster.NotFoundError{Tag: t, Existing: infoTags(infos)}
		}
	}
	return out, engines, nil
}

func infoTags(infos []cluster.Info) []string {
	out := make([]string, len(infos))
	for i, in := range infos {
		out[i] = in.Tag
	}
	return out
}

package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/cluster"
	"github.com/clusterctl/clusterctl/internal/scheduler"
	"github.com/clusterctl/clusterctl/plugins"
)

// setupOptions gathers what cluster setup needs from the config (key files, secret plugin
// parameters) and the flags, tolerating a missing config: the cluster's record has the rest.
func (a *app) setupOptions(ctx context.Context) cluster.SetupOptions {
	o := cluster.SetupOptions{KeyFile: a.keyFiles(ctx), Concurrency: a.concurrency, Secrets: map[string]map[string]any{}}
	cfg, _ := a.loadConfig(ctx)
	if cfg == nil {
		return o
	}
	catalog := plugins.NewCatalog()
	for name, p := range cfg.Plugins {
		spec, _ := catalog.Lookup(p.SetupClass)
		for _, st := range spec.Params {
			if v, ok := p.Params[st.Name]; ok && st.Secret {
				if o.Secrets[name] == nil {
					o.Secrets[name] = map[string]any{}
				}
				o.Secrets[name][st.Name] = v
			}
		}
	}
	return o
}

// engineFor builds the engine for a command on a cluster, over the provider holding it.
func (a *app) engineFor(ctx context.Context, tag string) (*cluster.Engine, error) {
	p, err := a.providerFor(ctx, tag)
	if err != nil {
		return nil, err
	}
	return a.engine(p), nil
}

func newAddNodeCmd(a *app) *cobra.Command {
	var o cluster.AddOptions
	var aliases []string
	var bid string
	cmd := &cobra.Command{
		Use:     "addnode TAG",
		Aliases: []string{"an"},
		Short:   "Add nodes to a running cluster",
		Long: heredoc.Doc(`
			Launch nodes and bring them into the cluster: they get the full setup, while the
			existing nodes only learn the new hosts (appended lines, no rewrites) and the
			scheduler registers them. Aliases continue after the highest existing one
			(node001 ... node999, node1000, ...). With -x, set up existing instances named
			with -a instead of launching.`),
		Example: heredoc.Doc(`
			clusterctl addnode mycluster
			clusterctl addnode -n 4 -b 0.05 mycluster
			clusterctl addnode -a gpu1,gpu2 -I g5.xlarge -i ami-0123456789abcdef0 mycluster
			clusterctl addnode -z us-east-1b mycluster`),
		Args:              exactArgs(1, "the cluster TAG"),
		ValidArgsFunction: completeClusters(a),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, s := range aliases {
				o.Aliases = append(o.Aliases, splitComma(s)...)
			}
			if bid != "" {
				v, err := strconv.ParseFloat(bid, 64)
				if err != nil || v <= 0 {
					return usageErrorf("--bid must be a price above 0, got " + bid)
				}
				o.Bid = &v
			}
			if len(o.Aliases) > 0 && !cmd.Flags().Changed("num-nodes") {
				o.Count = len(o.Aliases)
			}
			eng, err := a.engineFor(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			added, err := eng.AddNodes(cmd.Context(), args[0], o, a.setupOptions(cmd.Context()))
			if err != nil {
				return err
			}
			if o.CreateOnly {
				a.streams.Status().Donef("launched %s for %s (not set up: -o): %s", plural(len(added), "node"), args[0], strings.Join(added, ", "))
				return nil
			}
			a.streams.Status().Donef("added %s to %s: %s", plural(len(added), "node"), args[0], strings.Join(added, ", "))
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVarP(&o.Count, "num-nodes", "n", 1, "number of nodes to add")
	f.StringArrayVarP(&aliases, "alias", "a", nil, "aliases of the new nodes (comma list or repeated)")
	f.StringVarP(&bid, "bid", "b", "", "launch the nodes as spot with this maximum hourly price")
	f.StringVarP(&o.Image, "image-id", "i", "", "image (default: the cluster's worker image)")
	f.StringVarP(&o.Type, "instance-type", "I", "", "instance type (default: the cluster's worker type)")
	f.StringVarP(&o.Zone, "availability-zone", "z", "", "zone to launch in (default: the master's)")
	f.BoolVarP(&o.NoCreate, "no-create", "x", false, "set up existing instances (named with -a) instead of launching")
	f.BoolVarP(&o.CreateOnly, "create-only", "o", false, "launch the nodes without setting them up (later: addnode -x -a ALIAS)")
	cmd.MarkFlagsMutuallyExclusive("no-create", "create-only")
	return cmd
}

func newRemoveNodeCmd(a *app) *cobra.Command {
	var o cluster.RemoveOptions
	var aliases []string
	var yes bool
	cmd := &cobra.Command{
		Use:     "removenode TAG [NODE...]",
		Aliases: []string{"rn"},
		Short:   "Remove nodes from a cluster and terminate them",
		Long: heredoc.Doc(`
			Take nodes out of the cluster: the scheduler drains them (no new job starts there)
			and the removal waits until the jobs running there have finished (up to
			--drain-timeout; a wait that gives up removes nothing and puts the nodes back in
			service). Then plugins' on-remove hooks run (in reverse order), the scheduler
			removes them, the other nodes forget them (hosts, known host keys, NFS exports),
			and they are terminated (unless -k). A running job is never killed unless --force.
			Without -a the highest-numbered workers go. The master is never removed.

			StarCluster's older form, nodes named after the tag (removenode TAG node001
			node002), works too.`),
		Example: heredoc.Doc(`
			clusterctl removenode -y mycluster
			clusterctl removenode -n 3 -y mycluster
			clusterctl removenode -a node002 -k mycluster
			clusterctl removenode -y mycluster node003 node004`),
		Args:              minArgs(1, "the cluster TAG"),
		ValidArgsFunction: completeClusters(a),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, s := range aliases {
				o.Aliases = append(o.Aliases, splitComma(s)...)
			}
			o.Aliases = append(o.Aliases, args[1:]...)
			what := plural(max(o.Count, 1), "node")
			if len(o.Aliases) > 0 {
				what = strings.Join(o.Aliases, ", ")
			}
			if err := confirmed(a, yes, fmt.Sprintf("Remove %s from cluster %s?", what, args[0])); err != nil {
				return err
			}
			eng, err := a.engineFor(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			gone, err := eng.RemoveNodes(cmd.Context(), args[0], o, a.setupOptions(cmd.Context()))
			if err != nil {
				return err
			}
			a.streams.Status().Donef("removed %s from %s", strings.Join(gone, ", "), args[0])
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVarP(&o.Count, "num-nodes", "n", 1, "number of nodes to remove (the highest numbered)")
	f.StringArrayVarP(&aliases, "alias", "a", nil, "aliases of the nodes to remove (comma list or repeated)")
	f.BoolVarP(&o.KeepInstance, "keep-instance", "k", false, "keep the instances running, outside the cluster")
	f.BoolVarP(&o.Force, "force", "f", false, "remove at once, ending the jobs running there, even when a plugin's on-remove hook fails")
	f.DurationVar(&o.DrainTimeout, "drain-timeout", scheduler.DefaultDrainTimeout, "how long to wait for jobs running on the drained nodes")
	addConfirmFlags(cmd, &yes)
	return cmd
}

func newRestartCmd(a *app) *cobra.Command {
	var rebootOnly bool
	cmd := &cobra.Command{
		Use:     "restart TAG",
		Aliases: []string{"reboot"},
		Short:   "Reboot every node and set the cluster up again",
		Long: heredoc.Doc(`
			Run the plugins' on-restart hooks, reboot every instance, wait for them, then run
			the whole setup again (every step is idempotent). With -o, only reboot and wait
			until the instances run again.`),
		Example: heredoc.Doc(`
			clusterctl restart mycluster
			clusterctl restart -o mycluster`),
		Args: exactArgs(1, "the cluster TAG"), ValidArgsFunction: completeClusters(a),
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, err := a.engineFor(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if err := eng.Restart(cmd.Context(), args[0], a.setupOptions(cmd.Context()), rebootOnly); err != nil {
				return err
			}
			what := "restarted"
			if rebootOnly {
				what = "rebooted (not set up again: -o)"
			}
			a.streams.Status().Donef("cluster %s %s", args[0], what)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&rebootOnly, "reboot-only", "o", false, "only reboot the instances; skip setting the cluster up again")
	return cmd
}

func newRunPluginCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "runplugin PLUGIN TAG",
		Aliases: []string{"rp"},
		Short:   "Run one of a cluster's plugins again",
		Long:    "Run a plugin the cluster was started with (by its [plugin NAME] section name) on every running node, as start did.",
		Example: "clusterctl runplugin pkgs mycluster",
		Args:    exactArgs(2, "a PLUGIN name and the cluster TAG"),
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, err := a.engineFor(cmd.Context(), args[1])
			if err != nil {
				return err
			}
			return eng.RunPlugin(cmd.Context(), args[1], args[0], a.setupOptions(cmd.Context()))
		},
	}
}

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

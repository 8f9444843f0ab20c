package main

import (
	"strings"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/cluster"
	"github.com/clusterctl/clusterctl/internal/ui"
)

// repairReport is repair's result for --output json.
type repairReport struct {
	Removed  []repairedNode `json:"removed"`
	Replaced []string       `json:"replaced"`
}

type repairedNode struct {
	Alias      string `json:"alias"`
	InstanceID string `json:"instance_id,omitempty"`
	Why        string `json:"why"`
}

func newRepairCmd(a *app) *cobra.Command {
	var o cluster.RepairOptions
	cmd := &cobra.Command{
		Use:   "repair TAG",
		Short: "Clean up after nodes that vanished (spot interruptions, killed machines)",
		Long: heredoc.Doc(`
			Take the cluster's vanished workers out of it: nodes whose machine is gone though
			clusterctl did not remove them (EC2 took a spot instance back, someone terminated it
			from the console, a local container was killed), and names the master still counts
			that no instance answers to. The scheduler requeues the jobs that ran there (Grid
			Engine's queue makes jobs rerunnable, Slurm requeues them) and forgets the hosts,
			plugins' on-remove hooks run, the other nodes drop them from /etc/hosts,
			known_hosts and the exports, and what is left of their instances is terminated.
			With --replace, a node with the same settings (instance type, image, spot bid)
			takes each one's place under its alias. A healthy cluster is left as it is.

			Every command on a cluster warns about vanished nodes; loadbalance cleans up after
			them in each iteration by itself.`),
		Example: heredoc.Doc(`
			clusterctl repair mycluster
			clusterctl repair --replace mycluster`),
		Args:              exactArgs(1, "the cluster TAG"),
		ValidArgsFunction: completeClusters(a),
		RunE: func(cmd *cobra.Command, args []string) error {
			tag := args[0]
			eng, err := a.engineFor(cmd.Context(), tag)
			if err != nil {
				return err
			}
			res, err := eng.Repair(cmd.Context(), tag, o, a.setupOptions(cmd.Context()))
			if res != nil {
				if perr := printRepair(a, res); perr != nil && err == nil {
					err = perr
				}
			}
			if err != nil {
				return err
			}
			switch {
			case len(res.Removed) == 0:
				a.streams.Status().Donef("cluster %s has no vanished node: nothing to repair", tag)
			case len(res.Replaced) > 0:
				a.streams.Status().Donef("repaired %s: removed %s, replaced by %s", tag, strings.Join(aliases(res.Removed), ", "), strings.Join(res.Replaced, ", "))
			default:
				a.streams.Status().Donef("repaired %s: removed %s", tag, strings.Join(aliases(res.Removed), ", "))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&o.Replace, "replace", false, "launch a node with the same settings in place of each vanished one")
	return cmd
}

// printRepair prints what repair removed and launched, as a table or JSON on stdout.
func printRepair(a *app, res *cluster.RepairResult) error {
	rep := repairReport{Removed: []repairedNode{}, Replaced: append([]string{}, res.Replaced...)}
	for _, v := range res.Removed {
		rep.Removed = append(rep.Removed, repairedNode{Alias: v.Alias, InstanceID: v.Instance.ID, Why: v.Why})
	}
	if format, _ := a.format(); format == ui.FormatJSON {
		return ui.PrintJSON(a.streams.SafeOut(), rep)
	}
	if len(rep.Removed) == 0 {
		return nil
	}
	t := ui.NewTable("node", "instance", "what happened", "replaced")
	for _, r := range rep.Removed {
		replaced := "no"
		for _, x := range rep.Replaced {
			if x == r.Alias {
				replaced = "yes"
			}
		}
		t.AddRow(r.Alias, dash(r.InstanceID), r.Why, replaced)
	}
	return t.Render(a.streams.SafeOut())
}

func aliases(vs []cluster.VanishedNode) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Alias
	}
	return out
}

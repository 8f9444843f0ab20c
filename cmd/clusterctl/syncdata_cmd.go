package main

import (
	"fmt"
	"strings"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/cluster"
	"github.com/clusterctl/clusterctl/internal/ui"
)

func newSyncDataCmd(a *app) *cobra.Command {
	o := cluster.SyncOptions{Keep: cluster.DefaultKeepSnapshots, Headroom: cluster.DefaultHeadroom}
	cmd := &cobra.Command{
		Use:   "syncdata TAG DIR...",
		Short: "Copy directories of the master into a new snapshot that nodes get a copy of",
		Long: heredoc.Doc(`
			Make a new snapshot for one of the cluster's copied volumes (SHARE = copy, or an item
			of DATA_SNAPSHOTS) from directories of the master, as GBrowse's sync script did: a
			volume sized for the data plus headroom is created in the master's zone, attached to
			the master, formatted, filled (rsync when the master has it, else cp -a), detached,
			snapshotted and deleted; the staging volume is removed also when a step fails.

			Each DIR is copied as a directory of its own at the volume's root; end it with / to
			copy its contents instead (rsync's rule). The snapshot is tagged with the cluster,
			so every node launched afterwards (addnode, loadbalance) gets a copy of it; the
			config lines to paste for later clusters are printed on stdout. Older syncdata
			snapshots of the volume beyond --keep are deleted.

			--rollout then replaces the workers that still have an older copy, one at a time:
			each leaves the cluster as with removenode (the scheduler stops giving it jobs, the
			other nodes forget it, it is terminated) and a node of the same name, type and image
			takes its place. The master keeps its copy.`),
		Example: heredoc.Doc(`
			clusterctl syncdata render --volume data /srv/gbrowse/databases
			clusterctl syncdata render -v refs --size 200 /data/genomes/ /data/indexes
			clusterctl syncdata render -v data --rollout /srv/gbrowse/databases`),
		Args:              minArgs(2, "the cluster TAG and at least one DIR"),
		ValidArgsFunction: completeClusters(a),
		RunE: func(cmd *cobra.Command, args []string) error {
			tag := args[0]
			o.Dirs = args[1:]
			if o.Keep < 0 || o.SizeGB < 0 || o.Headroom < 0 {
				return usageErrorf("--keep, --size and --headroom must not be negative")
			}
			eng, err := a.engineFor(cmd.Context(), tag)
			if err != nil {
				return err
			}
			o.Copier = a.syncCopier
			res, err := eng.SyncData(cmd.Context(), tag, o, a.setupOptions(cmd.Context()))
			if res == nil {
				return err
			}
			if format, _ := a.format(); format == ui.FormatJSON {
				if perr := ui.PrintJSON(a.streams.SafeOut(), res); perr != nil {
					return perr
				}
				return err
			}
			st := a.streams.Status()
			st.Donef("snapshot %s of %s holds the new data (%d GB); nodes added from now on get a copy of it", res.Snapshot.ID, res.Volume.Name, res.Snapshot.SizeGB)
			if len(res.Pruned) > 0 {
				st.Infof("Deleted %s: %s.", plural(len(res.Pruned), "older snapshot"), strings.Join(res.Pruned, ", "))
			}
			if len(res.Replaced) > 0 {
				st.Donef("replaced %s: %s", plural(len(res.Replaced), "worker"), strings.Join(res.Replaced, ", "))
			}
			if len(res.Kept) > 0 {
				st.Infof("%s keeps its older copy (the master is never replaced).", strings.Join(res.Kept, ", "))
			}
			st.Infof("For clusters started later, put this in the config:")
			fmt.Fprintln(a.streams.SafeOut(), strings.Join(res.ConfigLines, "\n"))
			return err
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.Volume, "volume", "v", "", "the copied volume: its [volume] name or mount path (DATA_SNAPSHOTS items are data, data2, ...)")
	f.IntVar(&o.SizeGB, "size", 0, "size of the new volume in GB (default: the data plus --headroom)")
	f.IntVar(&o.Headroom, "headroom", o.Headroom, "percent added to the data's size for the new volume")
	f.IntVar(&o.Keep, "keep", o.Keep, "syncdata snapshots of the volume to keep, newest first (0 keeps all)")
	f.BoolVar(&o.Rollout, "rollout", false, "replace the workers with older copies, one at a time")
	_ = cmd.MarkFlagRequired("volume")
	return cmd
}

func newListSnapshotsCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "listsnapshots TAG",
		Aliases: []string{"snapshots", "lsnap"},
		Short:   "List the snapshots a cluster copies to its nodes, and those syncdata made",
		Long: heredoc.Doc(`
			List a cluster's data snapshots, newest first: the ones its template copies to every
			node (SNAPSHOT_ID, DATA_SNAPSHOTS) and the ones syncdata made for it, also for an
			earlier cluster of the same tag. "current" marks what a node launched now gets.`),
		Example:           "clusterctl listsnapshots render\nclusterctl --output json snapshots render",
		Args:              exactArgs(1, "the cluster TAG"),
		ValidArgsFunction: completeClusters(a),
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, err := a.engineFor(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			snaps, err := eng.Snapshots(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			t := ui.NewTable("id", "volume", "origin", "current", "size", "state", "created", "description")
			for _, s := range snaps {
				current, created := "", "-"
				if s.Current {
					current = "yes"
				}
				if !s.StartTime.IsZero() {
					created = s.StartTime.Format("2006-01-02 15:04")
				}
				t.AddRow(s.ID, s.Volume, s.Origin, dash(current), fmt.Sprintf("%d GB", s.SizeGB), dash(s.State), created, dash(s.Description))
			}
			if snaps == nil {
				snaps = []cluster.SnapshotInfo{}
			}
			return printData(a, snaps, t)
		},
	}
}

func newPruneSnapshotsCmd(a *app) *cobra.Command {
	var keep int
	var volume string
	var yes bool
	cmd := &cobra.Command{
		Use:   "prunesnapshots TAG",
		Short: "Delete a cluster's older syncdata snapshots, keeping the newest",
		Long: heredoc.Doc(`
			Delete the snapshots syncdata made for a cluster's copied volumes except the newest
			--keep of each (and always the one nodes get now). Snapshots the template names are
			never touched. The local provider refuses to delete a snapshot that nodes' copies
			still use; that is reported and the others are deleted.`),
		Example:           "clusterctl prunesnapshots --keep 2 -y render\nclusterctl prunesnapshots -v data --keep 1 render",
		Args:              exactArgs(1, "the cluster TAG"),
		ValidArgsFunction: completeClusters(a),
		RunE: func(cmd *cobra.Command, args []string) error {
			if keep < 1 {
				return usageErrorf("--keep must be at least 1")
			}
			if err := confirmed(a, yes, fmt.Sprintf("Delete the syncdata snapshots of %s older than the newest %d?", args[0], keep)); err != nil {
				return err
			}
			eng, err := a.engineFor(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			deleted, err := eng.PruneSnapshots(cmd.Context(), args[0], volume, keep)
			for _, id := range deleted {
				fmt.Fprintln(a.streams.SafeOut(), id)
			}
			if err == nil {
				a.streams.Status().Donef("deleted %s of %s", plural(len(deleted), "snapshot"), args[0])
			}
			return err
		},
	}
	cmd.Flags().IntVar(&keep, "keep", cluster.DefaultKeepSnapshots, "snapshots to keep per volume, newest first")
	cmd.Flags().StringVarP(&volume, "volume", "v", "", "only this copied volume's snapshots")
	addConfirmFlags(cmd, &yes)
	return cmd
}

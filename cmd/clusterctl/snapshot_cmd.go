package main

import (
	"context"
	"fmt"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/ui"
)

func newCreateSnapshotCmd(a *app) *cobra.Command {
	var name, description string
	cmd := &cobra.Command{
		Use:   "createsnapshot VOLUME_ID",
		Short: "Snapshot a volume, to copy it to every node of a cluster",
		Long: heredoc.Doc(`
			Snapshot a volume and wait until the snapshot is complete. Name it as SNAPSHOT_ID of a
			[volume] with SHARE = copy (or in DATA_SNAPSHOTS), and every node of a cluster gets a
			copy of its own. A volume of the local provider (vol- ids listed by
			listvolumes -z local) is copied to a snapshot directory on this machine.`),
		Example: heredoc.Doc(`
			clusterctl createsnapshot vol-0123456789abcdef0 -n refdata
			sudo clusterctl createsnapshot vol-5f6fe90d9390`),
		Args: exactArgs(1, "the VOLUME_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := a.snapshotProvider(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			sn, ok := p.(cloud.Snapshotter)
			if !ok {
				return fmt.Errorf("the %s provider cannot make snapshots", p.Name())
			}
			tags := map[string]string{}
			if name != "" {
				tags[cloud.TagName] = name
			}
			var snap cloud.Snapshot
			if err := a.streams.Status().Run(cmd.Context(), "snapshot "+args[0], func(ctx context.Context, _ *ui.Step) error {
				snap, err = sn.CreateSnapshot(ctx, cloud.SnapshotSpec{VolumeID: args[0], Description: description, Tags: tags})
				return err
			}); err != nil {
				return err
			}
			if format, _ := a.format(); format == ui.FormatJSON {
				return ui.PrintJSON(a.streams.SafeOut(), snap)
			}
			fmt.Fprintln(a.streams.SafeOut(), snap.ID)
			a.streams.Status().Infof("Copy it to every node of a cluster:\n\n[volume %s]\nSHARE = copy\nSNAPSHOT_ID = %s\nMOUNT_PATH = /%s\n",
				orDefault(name, "data"), snap.ID, orDefault(name, "data"))
			return nil
		},
	}
	cmd.Flags().StringVarP(&name, "name", "n", "", "Name tag of the snapshot")
	cmd.Flags().StringVarP(&description, "description", "d", "", "description of the snapshot")
	return cmd
}

// snapshotProvider is the local provider when the volume is one of its volumes, else EC2.
func (a *app) snapshotProvider(ctx context.Context, volumeID string) (cloud.Provider, error) {
	if a.providerSeam == nil {
		if lp, err := a.localProvider(); err == nil {
			if vols, _ := lp.Volumes(ctx, cloud.VolumeFilter{IDs: []string{volumeID}}); len(vols) > 0 {
				return lp, nil
			}
		}
	}
	return a.provider(ctx)
}

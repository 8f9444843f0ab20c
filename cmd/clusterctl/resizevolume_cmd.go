package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cluster"
	"github.com/clusterctl/clusterctl/internal/ui"
)

func newResizeVolumeCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "resizevolume VOLUME_ID SIZE_GB",
		Aliases: []string{"res"},
		Short:   "Grow a volume and the filesystem on it",
		Long: heredoc.Doc(`
			Grow a volume to SIZE_GB in place (EC2 elastic volumes; StarCluster copied it
			through a snapshot and a helper instance). When a running cluster has it mounted,
			its filesystem (ext4 or xfs, its partition first) is grown right away on the
			master; otherwise it is grown the next time a cluster mounts the volume. Volumes
			only grow. A local volume (zone local) is a directory: its recorded size grows.`),
		Example: heredoc.Doc(`
			clusterctl resizevolume vol-0123456789abcdef0 200
			sudo clusterctl resizevolume vol-local0123 20`),
		Args: exactArgs(2, "a VOLUME_ID and the new SIZE_GB"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			size, err := strconv.Atoi(args[1])
			if err != nil || size < 1 {
				return usageErrorf(fmt.Sprintf("SIZE_GB must be a whole number of GB; got %q", args[1]))
			}
			p, vol, err := a.findVolume(ctx, args[0])
			if err != nil {
				return err
			}
			if size <= vol.SizeGB {
				return usageErrorf(fmt.Sprintf("volume %s has %d GB already; volumes only grow", vol.ID, vol.SizeGB))
			}
			if err := a.streams.Status().Run(ctx, fmt.Sprintf("grow volume %s from %d to %d GB", vol.ID, vol.SizeGB, size), func(ctx context.Context, _ *ui.Step) error {
				return p.ResizeVolume(ctx, vol.ID, size)
			}); err != nil {
				return err
			}
			if p.Capabilities().SharedFilesystem {
				a.streams.Status().Donef("volume %s is %d GB", vol.ID, size)
				return nil
			}
			var tag, path string
			err = a.streams.Status().Run(ctx, "grow its filesystem", func(ctx context.Context, _ *ui.Step) error {
				tag, path, err = a.engine(p).GrowFilesystem(ctx, vol.ID, a.keyFiles(ctx))
				if errors.Is(err, cluster.ErrNotMounted) {
					return nil
				}
				return err
			})
			switch {
			case err != nil:
				return fmt.Errorf("volume %s is %d GB now, but its filesystem was not grown: %w", vol.ID, size, err)
			case tag != "":
				a.streams.Status().Donef("volume %s is %d GB; its filesystem at %s on %s's master fills it", vol.ID, size, path, tag)
			default:
				a.streams.Status().Donef("volume %s is %d GB; its filesystem grows the next time a cluster mounts it", vol.ID, size)
			}
			return nil
		},
	}
	return cmd
}

// findVolume finds a volume by id: among the local provider's volumes first (no AWS call when
// it is one of them), then EC2's.
func (a *app) findVolume(ctx context.Context, id string) (cloud.Provider, cloud.Volume, error) {
	var providers []cloud.Provider
	if a.providerSeam == nil {
		if lp, err := a.localProvider(); err == nil {
			providers = append(providers, lp)
		}
	}
	for _, p := range providers {
		if vols, err := p.Volumes(ctx, cloud.VolumeFilter{IDs: []string{id}}); err == nil && len(vols) == 1 {
			return p, vols[0], nil
		}
	}
	p, err := a.provider(ctx)
	if err != nil {
		return nil, cloud.Volume{}, err
	}
	vols, err := p.Volumes(ctx, cloud.VolumeFilter{IDs: []string{id}})
	if errors.Is(err, cloud.ErrNotFound) || (err == nil && len(vols) == 0) {
		return nil, cloud.Volume{}, &notFoundError{msg: "no volume " + id}
	}
	if err != nil {
		return nil, cloud.Volume{}, err
	}
	return p, vols[0], nil
}

package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cloud/local"
	"github.com/clusterctl/clusterctl/internal/ui"
)

func newCreateVolumeCmd(a *app) *cobra.Command {
	var name string
	var tags []string
	cmd := &cobra.Command{
		Use:     "createvolume SIZE_GB ZONE",
		Aliases: []string{"cv"},
		Short:   "Create an encrypted EBS volume for a cluster",
		Long: heredoc.Doc(`
			Create an encrypted EBS volume of SIZE_GB in ZONE. It is tagged so that the first
			cluster that mounts it creates a filesystem on it (only when it has none), so no
			helper instance is launched to format it. Reference it from a [volume NAME] section.
			ZONE "local" creates a volume for local clusters: a directory on this machine,
			bound into every node at its mount path.`),
		Example: heredoc.Doc(`
			clusterctl createvolume 100 us-east-1a -n results
			clusterctl createvolume 20 us-east-1a -t project=segway
			sudo clusterctl createvolume 5 local -n software`),
		Args: exactArgs(2, "SIZE_GB and ZONE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			size, err := strconv.Atoi(args[0])
			if err != nil || size < 1 {
				return usageErrorf(fmt.Sprintf("SIZE_GB must be a whole number of GB, at least 1; got %q", args[0]))
			}
			tagMap, err := parseTags(tags)
			if err != nil {
				return err
			}
			tagMap[cloud.TagFormat] = "true"
			p, err := a.volumeProvider(cmd.Context(), args[1])
			if err != nil {
				return err
			}
			var vol cloud.Volume
			err = a.streams.Status().Run(cmd.Context(), fmt.Sprintf("create %d GB volume in %s", size, args[1]), func(ctx context.Context, _ *ui.Step) error {
				vol, err = p.CreateVolume(ctx, cloud.VolumeSpec{SizeGB: size, Zone: args[1], Name: name, Tags: tagMap})
				return err
			})
			if err != nil {
				return err
			}
			format, _ := a.format()
			if format == ui.FormatJSON {
				return ui.PrintJSON(a.streams.SafeOut(), vol)
			}
			fmt.Fprintln(a.streams.SafeOut(), vol.ID)
			a.streams.Status().Infof("Use it in your config:\n\n[volume %s]\nVOLUME_ID = %s\nMOUNT_PATH = /%s\n", orDefault(name, "data"), vol.ID, orDefault(name, "data"))
			return nil
		},
	}
	cmd.Flags().StringVarP(&name, "name", "n", "", "Name tag of the volume")
	cmd.Flags().StringArrayVarP(&tags, "tag", "t", nil, "extra tag KEY=VALUE (repeatable)")
	return cmd
}

func parseTags(items []string) (map[string]string, error) {
	out := map[string]string{}
	for _, it := range items {
		k, v, ok := strings.Cut(it, "=")
		if !ok || k == "" {
			return nil, usageErrorf(fmt.Sprintf("tag %q: write KEY=VALUE", it))
		}
		out[k] = v
	}
	return out, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func newListVolumesCmd(a *app) *cobra.Command {
	var f struct {
		name, id, status, attach, zone, snapshot string
		size                                     int
		tags                                     []string
		deleted                                  bool
	}
	cmd := &cobra.Command{
		Use:     "listvolumes",
		Aliases: []string{"lv"},
		Short:   "List EBS volumes, with StarCluster's filters",
		Long:    "List the region's volumes, filtered by name, id, size, status, attachment, zone, snapshot or tags. Volumes being deleted or deleted are left out unless -d.",
		Example: "clusterctl listvolumes\nclusterctl listvolumes -S available -z us-east-1a\nclusterctl listvolumes -t project=segway\nclusterctl listvolumes -d",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tagMap, err := parseTags(f.tags)
			if err != nil {
				return err
			}
			p, err := a.volumeProvider(cmd.Context(), f.zone)
			if err != nil {
				return err
			}
			filter := cloud.VolumeFilter{Name: f.name, State: f.status, Zone: f.zone, Tags: tagMap}
			if f.id != "" {
				filter.IDs = []string{f.id}
			}
			vols, err := p.Volumes(cmd.Context(), filter)
			if err != nil {
				return err
			}
			var shown []cloud.Volume
			for _, v := range vols {
				attached := "detached"
				if v.AttachedTo != "" {
					attached = "attached"
				}
				if (f.size > 0 && v.SizeGB != f.size) || (f.snapshot != "" && v.SnapshotID != f.snapshot) || (f.attach != "" && f.attach != attached) {
					continue
				}
				if gone := v.State == "deleting" || v.State == "deleted"; gone && !f.deleted && f.status != v.State {
					continue
				}
				shown = append(shown, v)
			}
			t := ui.NewTable("id", "name", "size", "zone", "status", "attached to", "device", "encrypted", "created")
			for _, v := range shown {
				t.AddRow(v.ID, dash(v.Name), fmt.Sprintf("%d GB", v.SizeGB), v.Zone, v.State, dash(v.AttachedTo), dash(v.Device),
					strconv.FormatBool(v.Encrypted), v.CreateTime.Format("2006-01-02 15:04"))
			}
			if shown == nil {
				shown = []cloud.Volume{}
			}
			return printData(a, shown, t)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.name, "name", "n", "", "Name tag")
	fl.StringVarP(&f.id, "volume-id", "v", "", "volume id")
	fl.IntVarP(&f.size, "size", "s", 0, "size in GB")
	fl.StringVarP(&f.status, "status", "S", "", "status: creating, available, in-use, deleting, deleted or error")
	fl.StringVarP(&f.attach, "attach-status", "a", "", "attached or detached")
	fl.StringVarP(&f.zone, "zone", "z", "", "availability zone")
	fl.StringVarP(&f.snapshot, "snapshot-id", "i", "", "snapshot the volume was created from")
	fl.StringArrayVarP(&f.tags, "tag", "t", nil, "tag KEY=VALUE (repeatable)")
	fl.BoolVarP(&f.deleted, "show-deleted", "d", false, "also list volumes being deleted or deleted")
	return cmd
}

func newRemoveVolumeCmd(a *app) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:     "removevolume VOLUME_ID...",
		Aliases: []string{"rv"},
		Short:   "Delete EBS volumes that are not in use",
		Long:    "Delete volumes and their data. A volume attached to an instance is refused: detach it (or terminate its cluster) first.",
		Example: "clusterctl removevolume vol-0123456789abcdef0",
		Args:    minArgs(1, "at least one VOLUME_ID"),
		RunE: func(cmd *cobra.Command, ids []string) error {
			p, err := a.volumeProvider(cmd.Context(), "")
			if lp, lerr := a.localProvider(); lerr == nil {
				if local, _ := lp.Volumes(cmd.Context(), cloud.VolumeFilter{IDs: ids}); len(local) > 0 {
					p, err = lp, nil
				}
			}
			if err != nil {
				return err
			}
			vols, err := p.Volumes(cmd.Context(), cloud.VolumeFilter{IDs: ids})
			if err != nil {
				return err
			}
			byID := map[string]cloud.Volume{}
			for _, v := range vols {
				byID[v.ID] = v
			}
			for _, id := range ids {
				v, ok := byID[id]
				switch {
				case !ok:
					return &notFoundError{msg: "no volume " + id}
				case v.State != "available":
					return fmt.Errorf("volume %s is %s (attached to %s); detach it first, nothing was deleted", id, v.State, dash(v.AttachedTo))
				}
			}
			for _, id := range ids {
				if err := confirmed(a, yes, fmt.Sprintf("Delete volume %s and all its data?", id)); err != nil {
					return err
				}
				if err := p.DeleteVolume(cmd.Context(), id); err != nil {
					return err
				}
				a.streams.Status().Donef("deleted volume %s", id)
			}
			return nil
		},
	}
	addConfirmFlags(cmd, &yes)
	return cmd
}

// volumeProvider picks where volume commands work: the local provider for zone "local" (the
// local provider's only zone), else EC2.
func (a *app) volumeProvider(ctx context.Context, zone string) (cloud.Provider, error) {
	if zone == local.Zone && a.providerSeam == nil {
		return a.localProvider()
	}
	return a.provider(ctx)
}

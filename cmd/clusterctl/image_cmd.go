package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/cloud/local"
	"github.com/clusterctl/clusterctl/internal/ui"
)

func newImageCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image",
		Short: "Build and list images for local clusters",
		Long: heredoc.Doc(`
			Local clusters (PROVIDER = local) boot systemd-nspawn containers from an image built
			with debootstrap: Debian with systemd, OpenSSH, sudo, Grid Engine, NFS and Python,
			cached under /var/lib/clusterctl/images. start builds a missing image itself; an
			image is rebuilt when its definition changes.`),
		Example: heredoc.Doc(`
			sudo clusterctl image build
			sudo clusterctl image list`),
		Args: cobra.ArbitraryArgs,
		RunE: requireSubcommand,
	}
	cmd.AddCommand(newImageBuildCmd(a), newImageListCmd(a))
	return cmd
}

func newImageBuildCmd(a *app) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "build [NAME]",
		Short: "Build (or rebuild) an image for local clusters",
		Long: heredoc.Doc(`
			Build the named image (default debian-12) with debootstrap and apt, showing each step.
			An up-to-date image is left alone unless --force. Needs root, debootstrap and
			systemd-nspawn (apt-get install debootstrap systemd-container).`),
		Example: "sudo clusterctl image build\nsudo clusterctl image build --force debian-12",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			lp, err := a.localProvider()
			if err != nil {
				return err
			}
			name := "debian-12"
			if len(args) == 1 {
				name = args[0]
			}
			if !contains(local.ImageNames(), name) {
				return usageErrorf(fmt.Sprintf("no image %q: images are %s", name, strings.Join(local.ImageNames(), ", ")))
			}
			if err := a.streams.Status().Run(cmd.Context(), "build image "+name, func(ctx context.Context, _ *ui.Step) error {
				return lp.BuildImage(ctx, name, force)
			}); err != nil {
				return err
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "rebuild even when the image is up to date")
	return cmd
}

func newImageListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List images for local clusters",
		Long:    "List the images local clusters can use, whether each is built and up to date.",
		Example: "clusterctl image list",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			lp, err := a.localProvider()
			if err != nil {
				return err
			}
			imgs, err := lp.Images()
			if err != nil {
				return err
			}
			t := ui.NewTable("name", "state", "built", "path")
			for _, im := range imgs {
				state, built := "not built", "-"
				switch {
				case im.Exists && im.Current:
					state = "up to date"
				case im.Exists:
					state = "outdated (rebuilt by the next start or image build)"
				}
				if !im.Built.IsZero() {
					built = im.Built.Format("2006-01-02 15:04")
				}
				t.AddRow(im.Name, state, built, im.Path)
			}
			return printData(a, imgs, t)
		},
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/cloud/ec2"
	"github.com/clusterctl/clusterctl/internal/ui"
)

// ec2Only returns the EC2 provider for commands that only make sense on EC2.
func (a *app) ec2Only(ctx context.Context) (*ec2.Provider, error) {
	aws, err := a.awsInfo(ctx)
	if err != nil {
		return nil, err
	}
	return a.ec2Provider(ctx, aws)
}

// printData prints rows as a table, or v as JSON with --output json.
func printData(a *app, v any, t *ui.Table) error {
	format, _ := a.format()
	if format == ui.FormatJSON {
		return ui.PrintJSON(a.streams.SafeOut(), v)
	}
	if t.Len() == 0 {
		a.streams.Status().Infof("Nothing to list.")
		return nil
	}
	return t.Render(a.streams.SafeOut())
}

func newListInstancesCmd(a *app) *cobra.Command {
	var showTerminated bool
	cmd := &cobra.Command{
		Use:     "listinstances",
		Aliases: []string{"lsi"},
		Short:   "List every EC2 instance in the region",
		Long:    "List every instance of the region, clusterctl's or not, with its cluster and alias when it has them.",
		Example: "clusterctl listinstances\nclusterctl -r eu-west-1 listinstances -t",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := a.ec2Only(cmd.Context())
			if err != nil {
				return err
			}
			insts, err := p.AllInstances(cmd.Context(), showTerminated)
			if err != nil {
				return err
			}
			t := ui.NewTable("id", "cluster", "alias", "state", "type", "image", "public ip", "private ip", "zone", "lifecycle", "launched")
			for _, in := range insts {
				t.AddRow(in.ID, dash(in.Cluster), dash(in.Alias), in.State, in.InstanceType, in.ImageID, dash(in.PublicIP),
					dash(in.PrivateIP), dash(in.Zone), string(in.Lifecycle), in.LaunchTime.Format("2006-01-02 15:04"))
			}
			return printData(a, insts, t)
		},
	}
	cmd.Flags().BoolVarP(&showTerminated, "show-terminated", "t", false, "include terminated instances")
	return cmd
}

func newListSpotsCmd(a *app) *cobra.Command {
	var showClosed bool
	cmd := &cobra.Command{
		Use:     "listspots",
		Aliases: []string{"ls"},
		Short:   "List spot instance requests",
		Long:    "List the region's open and active spot requests (with -c, closed and cancelled ones too), with the cluster each belongs to.",
		Example: "clusterctl listspots\nclusterctl listspots -c --output json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := a.ec2Only(cmd.Context())
			if err != nil {
				return err
			}
			reqs, err := p.SpotRequests(cmd.Context(), showClosed)
			if err != nil {
				return err
			}
			t := ui.NewTable("id", "state", "status", "max price", "instance", "type", "zone", "cluster", "created")
			for _, r := range reqs {
				t.AddRow(r.ID, r.State, dash(r.Status), r.Price, dash(r.InstanceID), dash(r.InstanceType), dash(r.Zone), dash(r.Cluster), r.Created.Format("2006-01-02 15:04"))
			}
			return printData(a, reqs, t)
		},
	}
	cmd.Flags().BoolVarP(&showClosed, "show-closed", "c", false, "include closed and cancelled requests")
	return cmd
}

func newListRegionsCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "listregions",
		Aliases: []string{"lr"},
		Short:   "List the EC2 regions available to the account",
		Long:    "List the regions enabled for the account, with their EC2 endpoints.",
		Example: "clusterctl listregions",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := a.ec2Only(cmd.Context())
			if err != nil {
				return err
			}
			regions, err := p.Regions(cmd.Context())
			if err != nil {
				return err
			}
			t := ui.NewTable("region", "endpoint")
			for _, r := range regions {
				t.AddRow(r.Name, r.Endpoint)
			}
			return printData(a, regions, t)
		},
	}
}

func newListZonesCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "listzones",
		Aliases: []string{"lz"},
		Short:   "List the availability zones of the region",
		Long:    "List the availability zones of the region (-r), with their state.",
		Example: "clusterctl listzones\nclusterctl -r us-west-2 listzones",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := a.ec2Only(cmd.Context())
			if err != nil {
				return err
			}
			zones, err := p.Zones(cmd.Context())
			if err != nil {
				return err
			}
			t := ui.NewTable("zone", "id", "region", "state")
			for _, z := range zones {
				t.AddRow(z.Name, z.ID, z.Region, z.State)
			}
			return printData(a, zones, t)
		},
	}
}

// imageTable lists images; family adds listpublic's distribution column, own listimages'
// column saying which images ebsimage made.
func imageTable(images []ec2.Image, family, own bool) *ui.Table {
	headers := []string{"id", "name", "arch", "state", "owner", "created"}
	if family {
		headers = append([]string{"family"}, headers...)
	}
	if own {
		headers = append(headers, "clusterctl")
	}
	t := ui.NewTable(headers...)
	for _, im := range images {
		row := []string{im.ID, im.Name, im.Architecture, im.State, im.OwnerID, im.Created.Format("2006-01-02")}
		if family {
			row = append([]string{im.Family}, row...)
		}
		if own {
			row = append(row, map[bool]string{true: "yes", false: "-"}[im.Clusterctl])
		}
		t.AddRow(row...)
	}
	return t
}

func newListImagesCmd(a *app) *cobra.Command {
	var executable bool
	cmd := &cobra.Command{
		Use:     "listimages",
		Aliases: []string{"li"},
		Short:   "List your images (AMIs)",
		Long:    "List the images your account owns, or with -x every image you may launch; the clusterctl column marks the images ebsimage made, which removeimage removes.",
		Example: "clusterctl listimages\nclusterctl listimages -x",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := a.ec2Only(cmd.Context())
			if err != nil {
				return err
			}
			images, err := p.Images(cmd.Context(), ec2.ImageFilter{Owned: !executable, ExecutableByMe: executable})
			if err != nil {
				return err
			}
			return printData(a, images, imageTable(images, false, true))
		},
	}
	cmd.Flags().BoolVarP(&executable, "executable-by-me", "x", false, "list every image you may launch, not only your own")
	return cmd
}

func newListPublicCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "listpublic",
		Aliases: []string{"lp"},
		Short:   "List current official Debian and Ubuntu images for the region",
		Long: heredoc.Doc(`
			List the newest official Debian (12, 13) and Ubuntu LTS (22.04, 24.04) images of
			the region, for amd64 and arm64, from the distributions' own accounts.
			StarCluster's public images are long gone; use one of these as NODE_IMAGE_ID
			(log in as admin on Debian, ubuntu on Ubuntu).`),
		Example: "clusterctl listpublic\nclusterctl -r eu-west-1 listpublic --output json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := a.ec2Only(cmd.Context())
			if err != nil {
				return err
			}
			images, err := p.PublicImages(cmd.Context())
			if err != nil {
				return err
			}
			return printData(a, images, imageTable(images, true, false))
		},
	}
}

func newShowConsoleCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "showconsole INSTANCE_ID",
		Aliases: []string{"sc"},
		Short:   "Print an instance's console output",
		Long:    "Print the console output EC2 keeps for an instance (boot messages, cloud-init's host key fingerprints).",
		Example: "clusterctl showconsole i-0123456789abcdef0",
		Args:    exactArgs(1, "an INSTANCE_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := a.ec2Only(cmd.Context())
			if err != nil {
				return err
			}
			out, err := p.ConsoleOutput(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if strings.TrimSpace(out) == "" {
				a.streams.Status().Infof("No console output yet for %s (EC2 keeps it a few minutes after boot).", args[0])
				return nil
			}
			_, err = fmt.Fprint(a.streams.SafeOut(), out)
			return err
		},
	}
}

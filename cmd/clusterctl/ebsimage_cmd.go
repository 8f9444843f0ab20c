package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/cloud/ec2"
)

// scrubScript removes what must not travel in an image of a cluster node: root's cluster key
// and authorized keys, the node's host keys (clusterctl gives every new instance its own) and
// cloud-init's record of this instance. /home is left alone: on a cluster node it is the
// master's shared directory, not the node's own.
const scrubScript = `set -e
rm -f /root/.ssh/id_ed25519 /root/.ssh/id_ed25519.pub /root/.ssh/authorized_keys /etc/ssh/ssh_host_*
cloud-init clean --logs >/dev/null 2>&1 || true`

func newEBSImageCmd(a *app) *cobra.Command {
	var description, snapshotDescription string
	var noReboot, scrub bool
	cmd := &cobra.Command{
		Use:     "ebsimage INSTANCE_ID NAME",
		Aliases: []string{"eimg", "createimage"},
		Short:   "Make an image (AMI) of an instance, to launch clusters from",
		Long: heredoc.Doc(`
			Create an EBS-backed image of an instance, so a node set up by hand (software
			installed, data prepared) can be NODE_IMAGE_ID of later clusters. The instance
			reboots for a consistent disk unless --no-reboot.

			The image holds the disk as it is. With --scrub (for an instance of a clusterctl
			cluster) root's cluster SSH key, its authorized keys, the host keys and cloud-init's
			state are removed first; instances launched from the image get fresh host keys
			from clusterctl either way.`),
		Example: heredoc.Doc(`
			clusterctl ebsimage --scrub i-0123456789abcdef0 segway-node-2026-11
			clusterctl ebsimage -d "segway 2.1 node" -D "segway 2.1 root disk" i-0123456789abcdef0 segway-node
			clusterctl listimages`),
		Args: exactArgs(2, "an INSTANCE_ID and an image NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			p, err := a.ec2Only(ctx)
			if err != nil {
				return err
			}
			if description == "" {
				description = "Image created by clusterctl at " + time.Now().UTC().Format(time.RFC3339)
			}
			if scrub {
				if err := a.scrubInstance(ctx, args[0]); err != nil {
					return err
				}
			}
			id, err := p.CreateImage(ctx, ec2.ImageSpec{InstanceID: args[0], Name: args[1], Description: description,
				SnapshotDescription: snapshotDescription, NoReboot: noReboot})
			if err != nil {
				return err
			}
			fmt.Fprintln(a.streams.SafeOut(), id)
			a.streams.Status().Donef("creating image %s (%s) from %s; it is usable once `clusterctl listimages` shows it available", args[1], id, args[0])
			return nil
		},
	}
	cmd.Flags().StringVarP(&description, "description", "d", "", "image description")
	cmd.Flags().StringVarP(&snapshotDescription, "snapshot-description", "D", "", "description of the image's snapshots (kept as their Description tag)")
	cmd.Flags().BoolVar(&noReboot, "no-reboot", false, "do not reboot the instance (the disk may be inconsistent)")
	cmd.Flags().BoolVar(&scrub, "scrub", false, "remove cluster keys, host keys and cloud-init state first")
	return cmd
}

// scrubInstance runs scrubScript on an instance of a clusterctl cluster.
func (a *app) scrubInstance(ctx context.Context, id string) error {
	p, in, err := a.findInstance(ctx, id)
	if err != nil {
		return err
	}
	if in.Cluster == "" {
		return usageErrorf("--scrub works on instances of clusterctl clusters; " + id + " belongs to none")
	}
	acc, err := a.engine(p).Access(ctx, in.Cluster, a.keyFiles(ctx))
	if err != nil {
		return err
	}
	_, err = acc.RunAsRoot(ctx, in, scrubScript)
	return err
}

func newRemoveImageCmd(a *app) *cobra.Command {
	var yes, pretend, keep, force bool
	cmd := &cobra.Command{
		Use:     "removeimage IMAGE_ID",
		Aliases: []string{"ri"},
		Short:   "Deregister an image made by ebsimage and delete its snapshots",
		Long: heredoc.Doc(`
			Deregister an image (AMI) that ebsimage made and delete the EBS snapshots behind
			it, so they stop costing money. listimages marks clusterctl's images; another
			image is refused unless --force. -p only says what would be removed; -k keeps
			the snapshots.`),
		Example: heredoc.Doc(`
			clusterctl listimages
			clusterctl removeimage -p ami-0123456789abcdef0
			clusterctl removeimage -y ami-0123456789abcdef0`),
		Args: exactArgs(1, "an IMAGE_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			p, err := a.ec2Only(ctx)
			if err != nil {
				return err
			}
			images, err := p.Images(ctx, ec2.ImageFilter{IDs: args})
			if err != nil {
				return err
			}
			if len(images) == 0 {
				return &notFoundError{msg: "no image " + args[0]}
			}
			im := images[0]
			what := fmt.Sprintf("image %s (%s)", im.ID, im.Name)
			if !keep && len(im.Snapshots) > 0 {
				what += " and its snapshots " + strings.Join(im.Snapshots, ", ")
			}
			if pretend {
				a.streams.Status().Infof("Would remove %s (-p: nothing removed).", what)
				return nil
			}
			if err := confirmed(a, yes, "Remove "+what+"?"); err != nil {
				return err
			}
			if _, err := p.RemoveImage(ctx, im.ID, keep, force); err != nil {
				return err
			}
			a.streams.Status().Donef("removed %s", what)
			return nil
		},
	}
	addConfirmFlags(cmd, &yes)
	cmd.Flags().BoolVarP(&pretend, "pretend", "p", false, "say what would be removed, remove nothing")
	cmd.Flags().BoolVarP(&keep, "keep-image-data", "k", false, "keep the image's snapshots")
	cmd.Flags().BoolVar(&force, "force", false, "remove an image clusterctl did not make")
	return cmd
}

package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cloud/ec2"
	"github.com/clusterctl/clusterctl/internal/remote"
)

func newEBSImageCmd(a *app) *cobra.Command {
	var description, snapshotDescription string
	var noReboot, scrub, keepHostKeys bool
	cmd := &cobra.Command{
		Use:     "ebsimage INSTANCE_ID NAME",
		Aliases: []string{"eimg", "createimage"},
		Short:   "Make an image (AMI) of an instance, to launch clusters from",
		Long: heredoc.Doc(`
			Create an EBS-backed image of an instance, so a node set up by hand (software
			installed, data prepared) can be NODE_IMAGE_ID of later clusters. The instance
			reboots for a consistent disk unless --no-reboot.

			An instance of a clusterctl cluster is scrubbed first: its SSH host keys and
			cloud-init's copies of its user data (which hold host keys) are removed, so the
			image does not hand the node's identity to every instance launched from it or to
			whoever it is shared with. The node gets its own key back: at the reboot from
			cloud-init, or, with --no-reboot, from clusterctl right after the image is taken.
			--keep-host-keys skips this; an instance of no cluster cannot be scrubbed
			(clusterctl cannot log in), and instances clusterctl launches replace an image's
			host keys at first boot either way. With --scrub, root's cluster SSH key and its
			authorized keys are removed too (for good: the node no longer accepts the
			cluster's key).`),
		Example: heredoc.Doc(`
			clusterctl ebsimage i-0123456789abcdef0 segway-node-2026-11
			clusterctl ebsimage --scrub i-0123456789abcdef0 segway-node-2026-11
			clusterctl ebsimage -d "segway 2.1 node" -D "segway 2.1 root disk" i-0123456789abcdef0 segway-node
			clusterctl listimages`),
		Args: exactArgs(2, "an INSTANCE_ID and an image NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			p, in, err := a.findInstance(ctx, args[0])
			if err != nil {
				return err
			}
			if description == "" {
				description = "Image created by clusterctl at " + time.Now().UTC().Format(time.RFC3339)
			}
			var client *remote.Client
			switch {
			case in.Cluster == "" && scrub:
				return usageErrorf("--scrub works on instances of clusterctl clusters; " + in.ID + " belongs to none")
			case in.Cluster == "" && !keepHostKeys:
				a.streams.Status().Warnf("%s belongs to no clusterctl cluster, so its host keys stay in the image (instances clusterctl launches from it replace them at first boot)", in.ID)
			case in.Cluster != "" && (scrub || !keepHostKeys) && in.State != cloud.StateRunning:
				return usageErrorf(in.ID + " is " + in.State + ": start it so it can be scrubbed before imaging, or pass --keep-host-keys to image it as it is")
			case in.Cluster != "" && (scrub || !keepHostKeys):
				if client, err = a.scrubInstance(ctx, p, in, !keepHostKeys, scrub); err != nil {
					return err
				}
				defer client.Close()
			}
			id, err := p.CreateImage(ctx, ec2.ImageSpec{InstanceID: in.ID, Name: args[1], Description: description,
				SnapshotDescription: snapshotDescription, NoReboot: noReboot})
			if client != nil && !keepHostKeys && (noReboot || err != nil) {
				// No reboot happened: the node needs its keys back now.
				if _, rerr := client.RunWith(ctx, ec2.RestoreHostKeysScript, remote.RunOpts{Sudo: true}); rerr != nil {
					a.streams.Status().Warnf("%s: putting its host keys back failed (they are in /run/clusterctl-host-keys until it reboots): %v", in.ID, rerr)
				}
			}
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
	cmd.Flags().BoolVar(&scrub, "scrub", false, "also remove root's cluster SSH key and authorized keys")
	cmd.Flags().BoolVar(&keepHostKeys, "keep-host-keys", false, "leave the host keys and cloud-init's user data in the image")
	return cmd
}

// scrubInstance logs in to an instance of a clusterctl cluster and removes, as root, its host
// keys (hostKeys) and root's cluster keys (clusterKeys). It returns the connection, still
// open, for putting the host keys back.
func (a *app) scrubInstance(ctx context.Context, p *ec2.Provider, in cloud.Instance, hostKeys, clusterKeys bool) (*remote.Client, error) {
	acc, err := a.engine(p).Access(ctx, in.Cluster, a.keyFiles(ctx))
	if err != nil {
		return nil, err
	}
	t, err := acc.Target(in, "")
	if err != nil {
		return nil, err
	}
	client, err := remote.Connect(ctx, t, acc.Options())
	if err != nil {
		return nil, fmt.Errorf("scrub %s before imaging it (pass --keep-host-keys to image it as it is): %w", in.ID, err)
	}
	var script string
	if hostKeys {
		script += ec2.ScrubHostKeysScript
	}
	if clusterKeys {
		script += ec2.ScrubClusterKeysScript
	}
	if _, err := client.RunWith(ctx, script, remote.RunOpts{Sudo: true}); err != nil {
		client.Close()
		return nil, fmt.Errorf("scrub %s: %w", in.ID, err)
	}
	return client, nil
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

package main

import (
	"context"
	"fmt"
	"strconv"
	"unicode"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/cluster"
	"github.com/clusterctl/clusterctl/internal/ui"
)

func newListClustersCmd(a *app) *cobra.Command {
	var showSSH bool
	cmd := &cobra.Command{
		Use:     "listclusters [TAG...]",
		Aliases: []string{"lc"},
		Short:   "List clusters with their nodes, volumes and spot requests",
		Long: heredoc.Doc(`
			Show every cluster (or the named ones): its security group, description, launch
			time and uptime, VPC, subnet, zone, key pair, attached volumes, spot requests and
			each node's alias, state, instance id, address and lifecycle, with a total. -s
			also logs in to every running node (host keys verified) and shows whether SSH is
			up.`),
		Example: heredoc.Doc(`
			clusterctl listclusters
			clusterctl lc -s mycluster
			clusterctl listclusters --output json`),
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeClusters(a),
		RunE: func(cmd *cobra.Command, tags []string) error {
			infos, err := a.listClusters(cmd.Context(), tags, showSSH)
			if err != nil {
				return err
			}
			switch {
			case a.ec2NotAsked != nil && len(infos) == 0:
				a.streams.Status().Warnf("EC2 was not asked: %v", a.ec2NotAsked)
			case a.ec2NotAsked != nil:
				a.streams.Status().Infof("Local clusters only: EC2 was not asked (no AWS credentials found).")
			}
			format, _ := a.format()
			if format == ui.FormatJSON {
				return ui.PrintJSON(a.streams.SafeOut(), infos) // [] when there are none
			}
			if len(infos) == 0 && a.ec2NotAsked != nil {
				a.streams.Status().Infof("No local clusters (EC2 was not asked).")
				return nil
			}
			if len(infos) == 0 {
				a.streams.Status().Infof("No clusters.")
				return nil
			}
			return printClusters(a, infos, showSSH)
		},
	}
	cmd.Flags().BoolVarP(&showSSH, "show-ssh-status", "s", false, "check whether SSH is up on every running node")
	return cmd
}

// clusterListing is one cluster as listclusters shows it: the engine's description and, with
// -s, each running node's SSH state by alias.
type clusterListing struct {
	cluster.Info
	SSH map[string]string `json:"ssh,omitempty"`
}

func printClusters(a *app, infos []clusterListing, showSSH bool) error {
	w := a.streams.SafeOut()
	for i, c := range infos {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s (security group: %s)\n", c.Tag, c.Group)
		if c.Description != "" {
			fmt.Fprintf(w, "  Description:    %s\n", printable(c.Description))
		}
		fmt.Fprintf(w, "  Launch time:    %s\n", c.LaunchTime.Format("2006-01-02 15:04:05 MST"))
		fmt.Fprintf(w, "  Uptime:         %s\n", c.Uptime)
		fmt.Fprintf(w, "  VPC:            %s\n  Subnet:         %s\n", dash(c.VPC), dash(c.Subnet))
		fmt.Fprintf(w, "  Zone:           %s\n  Keypair:        %s\n", dash(c.Zone), dash(c.KeyPair))
		if len(c.Volumes) == 0 {
			fmt.Fprintln(w, "  EBS volumes:    none")
		} else {
			fmt.Fprintln(w, "  EBS volumes:")
			for _, v := range c.Volumes {
				fmt.Fprintf(w, "    %s on %s:%s (%s)\n", v.ID, aliasOf(c.Info, v.AttachedTo), v.Device, v.State)
			}
		}
		fmt.Fprintf(w, "  Spot requests:  %d active\n", c.SpotRequests.Active)
		fmt.Fprintln(w, "  Cluster nodes:")
		headers := []string{"alias", "state", "id", "address", "lifecycle"}
		if showSSH {
			headers = append(headers, "ssh")
		}
		t := ui.NewTable(headers...)
		for _, n := range c.Nodes {
			row := []string{"  " + n.Alias, n.State, n.ID, dash(firstNonEmpty(n.PublicDNS, n.PublicIP, n.PrivateIP)), string(n.Lifecycle)}
			if showSSH {
				row = append(row, dash(c.SSH[n.Alias]))
			}
			t.AddRow(row...)
		}
		if err := t.Render(w); err != nil {
			return err
		}
		fmt.Fprintf(w, "  Total nodes:    %d\n", c.Total)
	}
	return nil
}

// printable shows text read back from the cloud (a recorded description) with control
// characters escaped, so it cannot drive the terminal.
func printable(s string) string {
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.Quote(s)
			return q[1 : len(q)-1]
		}
	}
	return s
}

// listClusters describes the clusters of every provider, or only those named, with each
// node's SSH state when asked.
func (a *app) listClusters(ctx context.Context, tags []string, showSSH bool) ([]clusterListing, error) {
	infos, engines, err := a.describeClusters(ctx, tags)
	out := make([]clusterListing, len(infos))
	for i, in := range infos {
		out[i] = clusterListing{Info: in}
		if showSSH && err == nil {
			st, serr := engines[in.Tag].SSHStatus(ctx, in.Tag, a.keyFiles(ctx))
			if serr != nil {
				return out, serr
			}
			out[i].SSH = st
		}
	}
	return out, err
}

// describeClusters describes the clusters of every provider, or only those named, with the
// engine over each cluster's provider.
func (a *app) describeClusters(ctx context.Context, tags []string) ([]cluster.Info, map[string]*cluster.Engine, error) {
	ps, ec2Err := a.providers(ctx)
	if ec2Err != nil && len(ps) == 0 {
		return nil, nil, ec2Err
	}
	a.ec2NotAsked = ec2Err
	var infos []cluster.Info
	engines := map[string]*cluster.Engine{}
	for _, p := range ps {
		eng := a.engine(p)
		all, err := eng.List(ctx)
		if err != nil {
			return nil, nil, err
		}
		for _, in := range all {
			engines[in.Tag] = eng
		}
		infos = append(infos, all...)
	}
	if len(tags) == 0 {
		return infos, engines, nil
	}
	var out []cluster.Info
	for _, t := range tags {
		found := false
		for _, in := range infos {
			if in.Tag == t {
				out, found = append(out, in), true
			}
		}
		if !found && ec2Err != nil {
			return out, engines, notHere(t, ec2Err)
		}
		if !found {
			return out, engines, &cluster.NotFoundError{Tag: t, Existing: infoTags(infos)}
		}
	}
	return out, engines, nil
}

func infoTags(infos []cluster.Info) []string {
	out := make([]string, len(infos))
	for i, in := range infos {
		out[i] = in.Tag
	}
	return out
}

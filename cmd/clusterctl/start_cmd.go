package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cluster"
	"github.com/clusterctl/clusterctl/internal/config"
	"github.com/clusterctl/clusterctl/internal/ui"
)

// startOptions are start's flags. Flags that change the template become overrides parsed
// exactly like the config file's values, so `-s two` fails the same way CLUSTER_SIZE = two does.
type startOptions struct {
	template     string
	noCreate     bool
	createOnly   bool
	validateOnly bool
	dryRun       bool
	// skipValidation is StarCluster's -V, which clusterctl takes as a dry run: it never
	// launches anything unchecked.
	skipValidation bool
	loginMaster    bool
	description    string
	keyLocation    string
	userdata       []string
	overrides      map[string]*string
}

func newStartCmd(a *app) *cobra.Command {
	o := &startOptions{overrides: map[string]*string{}}
	cmd := &cobra.Command{
		Use:   "start [-c TEMPLATE] TAG",
		Short: "Launch a cluster from a template (or resume one with -x)",
		Long: heredoc.Doc(`
			Launch a new cluster named TAG from a template: a security group @sc-TAG, the
			master, and the worker nodes (one API call per instance type and image), then
			wait until every instance runs and attach the template's volumes to the master.

			Everything is checked first, against the config and the cloud: the key pair and
			key file, images and their architecture, instance types offered in the zone,
			volumes, subnet. Nothing is created unless all checks pass. SSH is opened only
			to SSH_CIDR, by default this machine's public address.

			If a start fails or is interrupted, what it created stays, tagged, and clusterctl
			prints it: resume with start -x TAG, or remove it all with terminate TAG.
			start -x also brings back a stopped cluster.`),
		Example: heredoc.Doc(`
			clusterctl start mycluster
			clusterctl start -c smallcluster --bid 0.03 -d "segway test run" test-bid
			clusterctl start -c mediumcluster -s 10 --dry-run big
			clusterctl start -l -c smallcluster mycluster
			clusterctl start -x mycluster`),
		Args:              exactArgs(1, "TAG"),
		ValidArgsFunction: completeClusters(a),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStart(cmd, a, o, args[0])
		},
	}
	f := cmd.Flags()
	addTemplateFlag(a, cmd, &o.template, "template to launch (default: DEFAULT_TEMPLATE)")
	f.BoolVarP(&o.noCreate, "no-create", "x", false, "resume an existing cluster: start stopped instances and launch missing ones")
	f.BoolVarP(&o.createOnly, "create-only", "o", false, "only launch instances; skip cluster setup")
	f.BoolVarP(&o.validateOnly, "validate-only", "v", false, "run every check, then stop")
	f.BoolVar(&o.dryRun, "dry-run", false, "print what would be created, then stop")
	f.BoolVarP(&o.skipValidation, "skip-validation", "V", false, "StarCluster's \"skip validation\": clusterctl always validates, so -V validates and shows what would start (as --dry-run)")
	f.BoolVarP(&o.loginMaster, "login-master", "l", false, "log in to the master once the cluster is ready")
	f.StringVarP(&o.description, "description", "d", "", "a description of the cluster, recorded with it and shown by listclusters")
	f.IntVarP(&a.refresh, "refresh-interval", "r", 0, "seconds between polls while waiting for instances (default: REFRESH_INTERVAL in [global], else 5)")
	f.StringVarP(&o.keyLocation, "key-location", "K", "", "private key file (overrides KEY_LOCATION)")
	f.StringArrayVarP(&o.userdata, "userdata-script", "U", nil, "script run at first boot (repeatable; replaces USERDATA_SCRIPTS)")
	for _, ov := range []struct{ long, short, key, usage string }{
		{"bid", "b", "spot_bid", "launch workers as spot instances with this maximum hourly price"},
		{"cluster-size", "s", "cluster_size", "number of instances, master included"},
		{"cluster-user", "u", "cluster_user", "the cluster's regular user"},
		{"cluster-shell", "S", "cluster_shell", "the cluster user's shell"},
		{"node-instance-type", "i", "node_instance_type", "worker instance type"},
		{"master-instance-type", "I", "master_instance_type", "master instance type"},
		{"node-image-id", "n", "node_image_id", "worker image"},
		{"master-image-id", "m", "master_image_id", "master image"},
		{"availability-zone", "a", "availability_zone", "zone to launch in"},
		{"keyname", "k", "keyname", "key pair (a [key NAME] section)"},
		{"subnet-id", "N", "subnet_id", "VPC subnet to launch into"},
	} {
		v := new(string)
		o.overrides[ov.key] = v
		f.StringVarP(v, ov.long, ov.short, "", ov.usage)
	}
	for _, b := range []struct{ on, off, onShort, offShort, key, usage string }{
		{"public-ips", "no-public-ips", "", "", "public_ips", "give nodes public addresses (VPC)"},
		{"dns-prefix", "no-dns-prefix", "P", "p", "dns_prefix", "prefix node names with the tag"},
		{"force-spot-master", "no-spot-master", "", "", "force_spot_master", "launch the master as spot too"},
		{"disable-queue", "enable-queue", "q", "Q", "disable_queue", "skip the Grid Engine setup"},
	} {
		v := new(string)
		o.overrides[b.key] = v
		f.AddFlag(boolOverrideFlag(v, b.on, b.onShort, "true", b.usage))
		f.AddFlag(boolOverrideFlag(v, b.off, b.offShort, "false", "the opposite of --"+b.on))
	}
	cmd.MarkFlagsMutuallyExclusive("no-create", "dry-run")
	cmd.MarkFlagsMutuallyExclusive("login-master", "create-only")
	return cmd
}

func runStart(cmd *cobra.Command, a *app, o *startOptions, tag string) error {
	ctx := cmd.Context()
	if o.skipValidation {
		a.streams.Status().Infof("clusterctl does not skip validation: -V validates and shows what would start; run without -V to start it.")
		o.dryRun = true
	}
	if a.refresh < 0 {
		return usageErrorf("--refresh-interval must be a positive number of seconds")
	}
	overrides := map[string]string{}
	for k, v := range o.overrides {
		if *v != "" {
			overrides[k] = *v
		}
	}
	if len(o.userdata) > 0 {
		overrides["userdata_scripts"] = strings.Join(o.userdata, ",")
	}
	if o.noCreate && (len(overrides) > 0 || o.template != "" || o.description != "") {
		return usageErrorf("start -x resumes a cluster as it was launched; template flags do not apply")
	}
	if o.noCreate && o.dryRun {
		return usageErrorf("start -x resumes an existing cluster; --dry-run and -V do not apply")
	}
	var tpl *config.Template
	if !o.noCreate {
		var err error
		if _, tpl, err = a.template(ctx, o.template, overrides); err != nil {
			return err
		}
		if o.keyLocation != "" && tpl.Key != nil {
			tpl.Key.Location = a.env.ExpandPath(o.keyLocation)
		}
		if tpl.SpotBid != nil {
			a.streams.Status().Warnf("spot instances are not guaranteed: EC2 may reclaim them at any time (resume with `clusterctl start -x %s`)", tag)
		}
	}
	var p cloud.Provider
	var err error
	if tpl != nil {
		p, err = a.providerForTemplate(ctx, tpl)
	} else {
		p, err = a.providerFor(ctx, tag)
	}
	if err != nil {
		return err
	}
	eng := a.engine(p)
	res, err := eng.Start(ctx, cluster.StartOptions{Tag: tag, Template: tpl, NoCreate: o.noCreate,
		ValidateOnly: o.validateOnly, DryRun: o.dryRun, ProviderName: p.Name(), CreateOnly: o.createOnly,
		Description: o.description, Setup: a.setupOptions(ctx)})
	if err != nil {
		return err
	}
	switch {
	case o.dryRun:
		return printPlan(a, res.Plan)
	case o.validateOnly:
		a.streams.Status().Donef("template %s is ready to launch as %s", tpl.Name, tag)
		return nil
	}
	what := "is ready"
	if o.createOnly {
		what = "is running (not set up: -o)"
	}
	a.streams.Status().Donef("cluster %s %s: %s", tag, what, plural(len(res.Instances), "instance"))
	if err := printInstances(a, res.Instances); err != nil {
		return err
	}
	if o.loginMaster && !o.createOnly {
		a.streams.Status().Infof("Logging in to the master of %s (remove the cluster later with `clusterctl terminate %s`).", tag, tag)
		return a.loginMaster(ctx, tag)
	}
	a.streams.Status().Infof("Log in with `clusterctl sshmaster %s`; remove it with `clusterctl terminate %s`.", tag, tag)
	return nil
}

// printPlan shows a dry run: what would be created, with counts and the spot bid.
func printPlan(a *app, p cluster.Plan) error {
	format, _ := a.format()
	if format == ui.FormatJSON {
		return ui.PrintJSON(a.streams.SafeOut(), p)
	}
	w := a.streams.SafeOut()
	fmt.Fprintf(w, "Would create cluster %s from template %s:\n\n", p.Tag, p.Record.Template)
	t := ui.NewTable("role", "count", "type", "image", "market", "max price", "aliases")
	for _, g := range p.Groups {
		market, price := "on-demand", ""
		if g.Spot {
			market, price = "spot", p.SpotPrice(g)+" USD/h"
		}
		t.AddRow(string(g.Role), strconv.Itoa(len(g.Aliases)), g.Type, g.Image, market, price, aliasRange(g.Aliases))
	}
	if err := t.Render(w); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nSecurity group @sc-%s, ingress:\n", p.Tag)
	rules := ui.NewTable("protocol", "ports", "from")
	rules.AddRow("all", "all", "the cluster's own instances")
	for _, r := range p.Record.Rules {
		rules.AddRow(r.Protocol, portRange(r.FromPort, r.ToPort), r.CIDR)
	}
	if err := rules.Render(w); err != nil {
		return err
	}
	if len(p.Record.Volumes) > 0 {
		fmt.Fprintln(w, "\nVolumes attached to the master:")
		vt := ui.NewTable("volume", "id", "mount path", "device")
		for i, v := range p.Record.Volumes {
			vt.AddRow(v.Name, v.ID, v.MountPath, cluster.VolumeDevice(p.Record.Volumes, i))
		}
		if err := vt.Render(w); err != nil {
			return err
		}
	}
	return printCopies(w, p.Record.CopiesToLaunch())
}

func aliasRange(aliases []string) string {
	if len(aliases) <= 2 {
		return strings.Join(aliases, ", ")
	}
	return aliases[0] + " .. " + aliases[len(aliases)-1]
}

func portRange(from, to int) string {
	switch {
	case from == -1:
		return "all"
	case from == to:
		return strconv.Itoa(from)
	}
	return fmt.Sprintf("%d-%d", from, to)
}

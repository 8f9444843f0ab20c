package main

import (
	"strings"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/cluster"
)

// newRootCmd builds the command tree. Only commands that work are registered.
func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "clusterctl",
		Short: "Launch and manage compute clusters on EC2 from StarCluster-style templates",
		Long: heredoc.Doc(`
			clusterctl turns a named template from an INI config file into a working compute
			cluster: a master and nodes, shared /home, passwordless SSH and a Grid Engine queue.
			StarCluster config files load unchanged.

			The config is read from --config, else $CLUSTERCTL_CONFIG, else $STARCLUSTER_CONFIG,
			else ~/.clusterctl/config, else ~/.starcluster/config.`),
		Example: heredoc.Doc(`
			clusterctl config init
			clusterctl config validate
			clusterctl --config ./project.cfg config show -c smallcluster`),
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("clusterctl {{.Version}}\n")
	pf := root.PersistentFlags()
	pf.StringVar(&a.configFlag, "config", "", "config file (default: $CLUSTERCTL_CONFIG, $STARCLUSTER_CONFIG, ~/.clusterctl/config, ~/.starcluster/config); -c before the command works too")
	pf.StringVar(&a.region, "region", "", "AWS region (default: AWS_REGION_NAME in [aws info], else the AWS SDK's, else us-east-1); -r before the command works too")
	pf.BoolVar(&a.debug, "debug", false, "print debug messages on stderr too (they always go to the log file); -d before the command works too")
	pf.StringVar(&a.output, "output", "text", "output format: text or json")
	pf.IntVar(&a.concurrency, "concurrency", 0, "nodes worked on at once in per-node steps (0: all of them, as far as open files allow)")
	// The default is the app's, so a test's shorter bound survives the flags' definition.
	pf.DurationVar(&a.waitTimeout, "wait-timeout", a.waitTimeout, "give up waiting for instances to run and for their SSH after this long (0: 15m for instances, 10m for SSH, 2m for local SSH)")
	pf.DurationVar(&a.lockWait, "lock-wait", cluster.DefaultLockWait, "how long a command that changes a cluster waits while another one changes it (0: give up at once)")
	_ = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		a.command = cmd.Name()
		if _, err := a.format(); err != nil {
			return err
		}
		if err := checkClusterTags(cmd, args); err != nil {
			return err
		}
		if a.debug {
			a.enableDebug()
		}
		return nil
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErrorf(err.Error()) })

	root.AddCommand(newConfigCmd(a), newStartCmd(a), newStopCmd(a), newTerminateCmd(a), newListClustersCmd(a),
		newListInstancesCmd(a), newListSpotsCmd(a), newListKeyPairsCmd(a), newCreateKeyCmd(a), newRemoveKeyCmd(a),
		newCreateVolumeCmd(a), newListVolumesCmd(a), newRemoveVolumeCmd(a), newSpotHistoryCmd(a),
		newListRegionsCmd(a), newListZonesCmd(a), newListImagesCmd(a), newListPublicCmd(a), newShowConsoleCmd(a),
		newSSHMasterCmd(a), newSSHNodeCmd(a), newSSHInstanceCmd(a), newPutCmd(a), newGetCmd(a),
		newAddNodeCmd(a), newRemoveNodeCmd(a), newRestartCmd(a), newRunPluginCmd(a), newImageCmd(a), newLoadBalanceCmd(a), newEBSImageCmd(a),
		newIAMPolicyCmd(a), newSyncDataCmd(a), newListSnapshotsCmd(a), newPruneSnapshotsCmd(a), newCreateSnapshotCmd(a),
		newResizeVolumeCmd(a), newRemoveImageCmd(a), newSSHConfigCmd(a), newRepairCmd(a))
	root.CompletionOptions.HiddenDefaultCmd = false
	groupCommands(root)
	for _, c := range commandTree(root) {
		c.Example = indentExample(c.Example)
	}
	return root
}

// commandGroups sorts the commands by task in --help, as the GitHub CLI does; commands not
// listed (help, completion) stay under "Additional Commands".
func commandGroups() []struct {
	id, title string
	commands  []string
} {
	return []struct {
		id, title string
		commands  []string
	}{
		{"lifecycle", "Cluster lifecycle:", []string{"start", "stop", "restart", "terminate", "listclusters", "runplugin"}},
		{"nodes", "Nodes:", []string{"addnode", "removenode", "repair", "loadbalance"}},
		{"access", "Access and files:", []string{"sshmaster", "sshnode", "sshinstance", "ssh-config", "put", "get"}},
		{"storage", "Volumes and images:", []string{"createvolume", "listvolumes", "resizevolume", "removevolume", "ebsimage", "listimages", "removeimage", "listpublic"}},
		{"data", "Data on every node:", []string{"syncdata", "createsnapshot", "listsnapshots", "prunesnapshots"}},
		{"aws", "AWS resources:", []string{"listinstances", "listspots", "spothistory", "showconsole", "listkeypairs", "createkey", "removekey", "listregions", "listzones", "iam-policy"}},
		{"local", "Local clusters:", []string{"image"}},
		{"config", "Configuration:", []string{"config"}},
	}
}

func groupCommands(root *cobra.Command) {
	byName := map[string]*cobra.Command{}
	for _, c := range root.Commands() {
		byName[c.Name()] = c
	}
	for _, g := range commandGroups() {
		root.AddGroup(&cobra.Group{ID: g.id, Title: g.title})
		for _, name := range g.commands {
			if c, ok := byName[name]; ok {
				c.GroupID = g.id
			}
		}
	}
}

// commandTree lists a command and everything below it.
func commandTree(c *cobra.Command) []*cobra.Command {
	out := []*cobra.Command{c}
	for _, sub := range c.Commands() {
		out = append(out, commandTree(sub)...)
	}
	return out
}

// indentExample indents every line of an example by two spaces, as help shows them.
func indentExample(ex string) string {
	if ex == "" {
		return ""
	}
	lines := strings.Split(strings.TrimRight(ex, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "  " + l
		}
	}
	return strings.Join(lines, "\n")
}

// requireSubcommand makes a group command without a subcommand a usage error rather than a
// silent help print with exit 0.
func requireSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("unknown command " + args[0] + " for " + cmd.CommandPath())
	}
	_ = cmd.Help()
	return usageErrorf(cmd.CommandPath() + " needs a subcommand")
}

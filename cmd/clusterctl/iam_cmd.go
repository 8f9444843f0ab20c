package main

import (
	"fmt"
	"strings"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/cloud/ec2"
	"github.com/clusterctl/clusterctl/internal/cluster"
	"github.com/clusterctl/clusterctl/internal/ui"
)

func newIAMPolicyCmd(a *app) *cobra.Command {
	var purpose, tag string
	cmd := &cobra.Command{
		Use:   "iam-policy",
		Short: "Print the least-privilege IAM policy for what clusterctl calls on EC2",
		Long: heredoc.Doc(`
			Print, as JSON, the IAM policy document that allows exactly the EC2 actions clusterctl
			calls, generated from the code's own table of them (a test fails when a new EC2 call
			lacks its entry). --for narrows it to a purpose: start (a cluster's life: start,
			stop, terminate, addnode, removenode, restart, listclusters, ssh, put, get),
			loadbalance (the balancer, e.g. under an instance role), syncdata (with --rollout,
			listsnapshots and prunesnapshots), or all (every command).

			--tag confines the policy to one cluster: resources it creates must be tagged
			clusterctl:cluster=TAG in the request, and the instances, volumes, snapshots, spot
			requests and security group it changes must carry that tag (aws:RequestTag and
			aws:ResourceTag conditions). Reads, images, subnets and key pairs stay open: EC2
			cannot confine them. A template with IAM_PROFILE also needs iam:PassRole on its role.`),
		Example: heredoc.Doc(`
			clusterctl iam-policy > clusterctl-policy.json
			clusterctl iam-policy --for loadbalance --tag render
			aws iam create-policy --policy-name clusterctl-balancer --policy-document "$(clusterctl iam-policy --for loadbalance)"`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if tag != "" {
				if err := cluster.CheckTag(tag, false); err != nil {
					return usageErrorf(err.Error())
				}
			}
			doc, err := ec2.Policy(ec2.Purpose(purpose), tag)
			if err != nil {
				return usageErrorf(fmt.Sprintf("--for: %v", err))
			}
			return ui.PrintJSON(a.streams.SafeOut(), doc)
		},
	}
	names := make([]string, 0, len(ec2.Purposes()))
	for _, p := range ec2.Purposes() {
		names = append(names, string(p))
	}
	cmd.Flags().StringVar(&purpose, "for", string(ec2.PurposeAll), "what the policy is for: "+strings.Join(names, ", "))
	cmd.Flags().StringVar(&tag, "tag", "", "confine the policy to the cluster with this tag")
	_ = cmd.RegisterFlagCompletionFunc("for", cobra.FixedCompletions(names, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

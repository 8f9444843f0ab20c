package main

import (
	"context"
	"errors"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cloud/ec2"
	"github.com/clusterctl/clusterctl/internal/cluster"
	"github.com/clusterctl/clusterctl/internal/config"
	"github.com/clusterctl/clusterctl/plugins"
)

// awsInfo returns the [aws info] settings for commands that need AWS but no template. They work
// without a config file (the SDK's credential chain), and a config whose templates have problems
// does not block them: terminating a cluster must never depend on fixing a typo elsewhere.
func (a *app) awsInfo(ctx context.Context) (config.AWSInfo, error) {
	cfg, err := a.loadConfig(ctx)
	var nf *config.NotFoundError
	var probs config.Problems
	switch {
	case err == nil:
		return cfg.AWS, nil
	case errors.As(err, &nf) && a.configFlag == "":
		a.logger.Debug("no config file; using the AWS SDK's credential chain")
		return config.AWSInfo{}, nil
	case errors.As(err, &probs) && cfg != nil:
		for _, p := range probs {
			if p.Section == "aws info" {
				return config.AWSInfo{}, err
			}
		}
		a.streams.Status().Warnf("the config has problems (see `clusterctl config validate`); continuing with its [aws info]")
		return cfg.AWS, nil
	}
	return config.AWSInfo{}, err
}

// ec2Provider builds the EC2 provider from [aws info] and the --region flag.
func (a *app) ec2Provider(ctx context.Context, aws config.AWSInfo) (*ec2.Provider, error) {
	region := a.region
	if region == "" {
		region = aws.RegionName
	}
	opts := ec2.Options{Region: region, AccessKeyID: aws.AccessKeyID, SecretAccessKey: aws.SecretAccessKey,
		SessionToken: aws.SessionToken, Profile: aws.Profile, Version: version}
	if aws.RegionHost != "" {
		opts.Endpoint = ec2.EndpointFromRegionHost(aws.RegionHost, aws.Port, aws.IsSecure, aws.EC2Path)
	}
	if a.apiOptions != nil {
		opts.APIOptions = a.apiOptions
	}
	if a.pollInterval > 0 {
		opts.PollInterval = a.pollInterval
	}
	return ec2.New(ctx, opts)
}

// provider returns the provider for commands that name a cluster or need the cloud.
func (a *app) provider(ctx context.Context) (cloud.Provider, error) {
	if a.providerSeam != nil {
		return a.providerSeam(ctx)
	}
	aws, err := a.awsInfo(ctx)
	if err != nil {
		return nil, err
	}
	return a.ec2Provider(ctx, aws)
}

// engine builds the cluster engine over a provider.
func (a *app) engine(p cloud.Provider) *cluster.Engine {
	catalog := plugins.NewCatalog()
	return &cluster.Engine{
		Provider: p, Status: a.streams.Status(), Log: a.logger, Version: version,
		StateDir: filepath.Join(a.env.Home, ".clusterctl"), PublicIP: a.publicIP, WaitTimeout: a.waitTimeout,
		Secret: func(builtin, param string) bool {
			spec, ok := catalog.Lookup(builtin)
			if !ok {
				return false
			}
			for _, st := range spec.Params {
				if st.Name == param {
					return st.Secret
				}
			}
			return false
		},
	}
}

// completeClusters completes cluster tags from the provider, for commands taking TAG.
func completeClusters(a *app) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		p, err := a.provider(cmd.Context())
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		clusters, err := p.ListClusters(cmd.Context())
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		tags := make([]string, len(clusters))
		for i, c := range clusters {
			tags[i] = c.Tag
		}
		return tags, cobra.ShellCompDirectiveNoFileComp
	}
}

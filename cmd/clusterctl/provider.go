package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cloud/ec2"
	"github.com/clusterctl/clusterctl/internal/cloud/local"
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
		SessionToken: aws.SessionToken, Profile: aws.Profile, Version: version,
		// Credentials from the SDK's chain (environment, ~/.aws, SSO, instance role) are as
		// secret as those in the config: never printed or logged either.
		OnCredentials: func(c awssdk.Credentials) {
			a.streams.Redactor().Add(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
		}}
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

// provider returns EC2, for commands that need the cloud but name no cluster.
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

// providerFor returns the provider holding cluster tag: the local provider when this machine
// has a local cluster of that name, else EC2.
func (a *app) providerFor(ctx context.Context, tag string) (cloud.Provider, error) {
	if a.providerSeam == nil {
		if lp, err := a.localProvider(); err == nil {
			if _, err := lp.GetCluster(ctx, tag); err == nil || !a.awsConfigured(ctx) {
				// Without AWS credentials anywhere the cluster can only be local (and
				// the local provider says it does not exist).
				return lp, nil
			}
		}
	}
	return a.provider(ctx)
}

// providerForTemplate returns the provider a template launches on (PROVIDER).
func (a *app) providerForTemplate(ctx context.Context, t *config.Template) (cloud.Provider, error) {
	if t.Provider == "local" && a.providerSeam == nil {
		return a.localProvider()
	}
	return a.provider(ctx)
}

// localProvider is the systemd-nspawn provider, with image builds reported as status lines.
func (a *app) localProvider() (*local.Provider, error) {
	dir, images := a.localStateDir, a.localImageDir
	if dir == "" {
		dir = local.DefaultStateDir
		if v, ok := a.env.Lookup("CLUSTERCTL_LOCAL_DIR"); ok && v != "" {
			dir = v
		}
	}
	if images == "" {
		images = filepath.Join(local.DefaultStateDir, "images")
	}
	return local.New(local.Options{StateDir: dir, ImageDir: images, Log: a.logger,
		Progress: func(msg string) { a.streams.Status().Infof("  %s", msg) }})
}

// providers lists every provider that may hold clusters, for listclusters: local clusters when
// this machine has any, and EC2 unless no AWS credentials are configured anywhere (probing the
// instance metadata service for them would only make listing local clusters slow).
func (a *app) providers(ctx context.Context) ([]cloud.Provider, error) {
	if a.providerSeam != nil {
		p, err := a.providerSeam(ctx)
		if err != nil {
			return nil, err
		}
		return []cloud.Provider{p}, nil
	}
	var out []cloud.Provider
	aws := a.awsConfigured(ctx)
	if lp, err := a.localProvider(); err == nil {
		if cl, err := lp.ListClusters(ctx); (err == nil && len(cl) > 0) || !aws {
			out = append(out, lp)
		}
	}
	if !aws && len(out) > 0 {
		return out, nil
	}
	p, err := a.provider(ctx)
	if err != nil {
		return out, err
	}
	return append(out, p), nil
}

// awsConfigured reports whether any AWS credentials source is set up, without network calls.
func (a *app) awsConfigured(ctx context.Context) bool {
	if info, err := a.awsInfo(ctx); err == nil && (info.AccessKeyID != "" || info.Profile != "") {
		return true
	}
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		if val, ok := a.env.Lookup(v); ok && val != "" {
			return true
		}
	}
	for _, f := range []string{"~/.aws/credentials", "~/.aws/config"} {
		if _, err := os.Stat(a.env.ExpandPath(f)); err == nil {
			return true
		}
	}
	return false
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
		ps, _ := a.providers(cmd.Context())
		var tags []string
		for _, p := range ps {
			clusters, err := p.ListClusters(cmd.Context())
			if err != nil {
				continue
			}
			for _, c := range clusters {
				tags = append(tags, c.Tag)
			}
		}
		return tags, cobra.ShellCompDirectiveNoFileComp
	}
}

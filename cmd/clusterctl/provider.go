package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

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
// without a config file (the SDK's credential chain), and only problems of [aws info] itself
// (and of the file or [global]) stop them: terminating a cluster must never depend on fixing
// a typo in a template.
func (a *app) awsInfo(ctx context.Context) (config.AWSInfo, error) {
	cfg, err := a.loadConfig(ctx)
	var nf *config.NotFoundError
	switch {
	case err == nil:
		if probs := cfg.AWSProblems(); len(probs) > 0 {
			return config.AWSInfo{}, probs
		}
		return cfg.AWS, nil
	case errors.As(err, &nf) && a.configFlag == "":
		a.logger.Info("no config file; using the AWS SDK's credential chain")
		return config.AWSInfo{}, nil
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
	opts.PollInterval = a.refreshInterval(ctx)
	opts.OnRetry = (&retryReporter{a: a}).report
	if a.pollInterval > 0 {
		// Tests poll moto fast; its tags are consistent at once, so a lease needs little
		// settle (enough that a loaded test machine's moto still answers a read and a write
		// within half of it), and its faults come from a proxy on loopback, so backoffs can
		// be short.
		opts.LeaseSettle = max(a.pollInterval, testLeaseSettle)
		opts.RetryBaseDelay = a.pollInterval
	}
	if a.leaseSettle > 0 {
		opts.LeaseSettle = a.leaseSettle
	}
	opts.Log = a.logger
	p, err := ec2.New(ctx, opts)
	var ce *ec2.CredentialsError
	if errors.As(err, &ce) {
		a.logger.Debug("the AWS SDK found no credentials", "reason", ce.Err.Error())
		return nil, &noCredentialsError{}
	}
	if err == nil && p.RegionDefaulted() && !a.saidRegion {
		a.saidRegion = true
		a.streams.Status().Infof("No region configured: using %s, as StarCluster did (set AWS_REGION_NAME in [aws info], AWS_REGION, or -r to choose).", ec2.DefaultRegion)
	}
	return p, err
}

// noCredentialsError is a first run without AWS credentials, explained once: the three ways to
// provide them, and that local clusters need none. The SDK's own reason is in the debug log.
type noCredentialsError struct{}

func (e *noCredentialsError) Error() string {
	return `no AWS credentials found. Provide them in one of three ways:
  1. the config file's [aws info]: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
  2. the environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE
  3. the AWS CLI's files: ` + "`aws configure`" + ` (or ` + "`aws sso login`" + `) writes ~/.aws/credentials and ~/.aws/config
On an EC2 instance, its IAM role is used. Local clusters (PROVIDER = local) need no credentials.`
}

// refreshInterval is how often EC2 is polled while waiting: the tests' interval, start -r,
// REFRESH_INTERVAL in [global], else the provider's default (0).
func (a *app) refreshInterval(ctx context.Context) time.Duration {
	switch {
	case a.pollInterval > 0:
		return a.pollInterval
	case a.refresh > 0:
		return time.Duration(a.refresh) * time.Second
	}
	if cfg, err := a.loadConfig(ctx); err == nil && cfg.Global.RefreshInterval > 0 {
		return time.Duration(cfg.Global.RefreshInterval) * time.Second
	}
	return 0
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
// has a local cluster of that name (no AWS credentials needed), else EC2. When EC2 cannot be
// asked, the error says so rather than that the cluster does not exist.
func (a *app) providerFor(ctx context.Context, tag string) (cloud.Provider, error) {
	if a.providerSeam == nil {
		if lp, err := a.localProvider(); err == nil {
			if _, err := lp.GetCluster(ctx, tag); err == nil {
				return lp, nil
			}
		}
	}
	p, err := a.provider(ctx)
	var nc *noCredentialsError
	if errors.As(err, &nc) {
		return nil, notHere(tag, err)
	}
	return p, err
}

// notHere is a cluster this machine does not have locally while EC2 could not be asked: not
// found (exit status 4, what a script checking for the cluster wants, local clusters being
// what a machine without credentials has), saying why EC2 was not asked.
func notHere(tag string, why error) error {
	return &notFoundError{msg: fmt.Sprintf("this machine has no local cluster %s, and EC2 was not asked: %v", tag, why)}
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
		if v, ok := a.env.Lookup("CLUSTERCTL_LOCAL_IMAGES"); ok && v != "" {
			images = v
		}
	}
	return local.New(local.Options{StateDir: dir, ImageDir: images, Log: a.logger,
		Progress: func(msg string) { a.streams.Status().Infof("  %s", msg) }})
}

// providers lists every provider that may hold clusters, for listclusters: the local one
// (when this machine can have local clusters) and EC2. ec2Err says why EC2 could not be asked
// (no credentials, say), so a listing never claims there are no clusters without having asked.
func (a *app) providers(ctx context.Context) (ps []cloud.Provider, ec2Err error) {
	if a.providerSeam != nil {
		p, err := a.providerSeam(ctx)
		if err != nil {
			return nil, err
		}
		return []cloud.Provider{p}, nil
	}
	if lp, err := a.localProvider(); err == nil {
		if _, err := lp.ListClusters(ctx); err == nil {
			ps = append(ps, lp)
		} else {
			a.logger.Debug("local clusters not listed", "error", err.Error())
		}
	}
	p, err := a.provider(ctx)
	if err != nil {
		return ps, err
	}
	return append(ps, p), nil
}

// testLeaseSettle is the least EC2 lease settle time of tests against moto: its read and
// write must land within half of it, which a busy 2-core machine's moto did not always
// manage within 10 ms.
const testLeaseSettle = 160 * time.Millisecond

// engine builds the cluster engine over a provider.
func (a *app) engine(p cloud.Provider) *cluster.Engine {
	return &cluster.Engine{
		Provider: p, Status: a.streams.Status(), Log: a.logger, Version: version,
		StateDir: filepath.Join(a.env.Home, ".clusterctl"), PublicIP: a.publicIP, WaitTimeout: a.waitTimeout, Dial: a.dialSeam,
		LockWait: a.lockWait, Command: a.command, SpotMetadata: a.spotMetadata(),
		Secret: plugins.NewCatalog().Secret,
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

// spotMetadataEnv points spot nodes' interruption watcher at another metadata service than
// the provider's (a test's fake one, a proxy in front of EC2's).
const spotMetadataEnv = "CLUSTERCTL_INSTANCE_METADATA"

func (a *app) spotMetadata() string {
	v, _ := a.env.Lookup(spotMetadataEnv)
	return v
}

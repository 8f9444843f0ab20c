// Package ec2 implements cloud.Provider on Amazon EC2 with aws-sdk-go-v2. A cluster lives only in
// EC2's own records: its security group (@sc-TAG) carries the recorded template, and every
// instance, volume and spot request carries the cluster tag, so any machine with credentials can
// find, grow or tear down a cluster without local state.
package ec2

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go/middleware"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// Defaults for the knobs in Options; exported so callers and docs can state them.
const (
	// DefaultPollInterval is how often Wait and the volume waits ask EC2 again. Five seconds
	// matches StarCluster and stays far below EC2's request-rate limits for any cluster size,
	// because one poll is one DescribeInstances call, not one per node.
	DefaultPollInterval = 5 * time.Second
	// DefaultParallelism bounds the concurrent per-instance calls (alias tags) after a launch.
	DefaultParallelism = 16
	// DefaultRegion is the region used when none is configured anywhere, as in StarCluster.
	DefaultRegion = "us-east-1"
)

// Options configure New. Empty fields fall back to the AWS SDK's own configuration chain, so
// a user with a working `aws` CLI setup needs none of them.
type Options struct {
	// Region overrides the SDK's region (AWS_REGION, the profile's region).
	Region string
	// Endpoint overrides the EC2 endpoint URL; empty keeps the SDK's choice, which already
	// honours AWS_ENDPOINT_URL_EC2 and AWS_ENDPOINT_URL.
	Endpoint string
	// AccessKeyID and SecretAccessKey (with the optional SessionToken) are static credentials,
	// as in StarCluster's [aws info]; when empty the SDK's default chain is used (environment,
	// shared files, SSO, instance role).
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// Profile selects a shared-config profile (like AWS_PROFILE).
	Profile string
	// APIOptions are added to every call's middleware stack (e.g. CallCounter.APIOption).
	APIOptions []func(*middleware.Stack) error
	// PollInterval is the wait between status polls; zero means DefaultPollInterval.
	PollInterval time.Duration
	// Parallelism bounds concurrent per-instance calls; zero means DefaultParallelism.
	Parallelism int
	// Version is recorded on each cluster's group (cloud.TagVersion); empty records "dev".
	Version string
	// Log receives the AWS SDK's own log lines (nil drops them).
	Log *slog.Logger
	// OnCredentials is told each set of credentials the SDK resolves (from whatever source),
	// so the caller can register them with its redactor before any output could show them.
	OnCredentials func(aws.Credentials)
	// LeaseTTL and LeaseSettle shape the cluster lease (LockCluster); zero means
	// DefaultLeaseTTL and DefaultLeaseSettle.
	LeaseTTL, LeaseSettle time.Duration
	// OnRetry is told each backoff before a throttled or failed call is tried again, for a
	// status line.
	OnRetry func(RetryEvent)
	// RetryBudget is the retry quota in tokens (a retry costs 5); zero means
	// DefaultRetryBudget.
	RetryBudget int
	// RetryBaseDelay is the unit of the exponential backoff; zero keeps the SDK's (one
	// second). Tests against moto shorten it.
	RetryBaseDelay time.Duration
}

// Provider is the EC2 implementation of cloud.Provider. It holds no cluster state, only the
// client and its settings, so one value can serve any number of concurrent calls.
type Provider struct {
	api      ec2API
	region   string
	poll     time.Duration
	parallel int
	version  string
	// leaseTTL and leaseSettle shape the cluster lease; retryBase is the backoff unit (0: the
	// SDK's).
	leaseTTL, leaseSettle, retryBase time.Duration
	// defaulted is set when no region was configured and DefaultRegion is used.
	defaulted bool
}

var _ cloud.Provider = (*Provider)(nil)

// New builds a provider from the SDK's configuration chain and the overrides in opts. It makes
// no EC2 API call; without static keys it asks the SDK's credential chain once (the instance
// role's probe bounded by IMDSTimeout) and fails with a *CredentialsError when there are none.
func New(ctx context.Context, opts Options) (*Provider, error) {
	load := credentialOptions(opts.Log)
	if opts.Region != "" {
		load = append(load, config.WithRegion(opts.Region))
	}
	if opts.Profile != "" {
		load = append(load, config.WithSharedConfigProfile(opts.Profile))
	}
	if opts.AccessKeyID != "" || opts.SecretAccessKey != "" {
		if opts.AccessKeyID == "" || opts.SecretAccessKey == "" {
			return nil, fmt.Errorf("ec2 credentials: both an access key id and a secret access key are needed")
		}
		load = append(load, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(
			opts.AccessKeyID, opts.SecretAccessKey, opts.SessionToken)))
	}
	load = append(load, config.WithRetryer(func() aws.Retryer { return newRetryer(opts.RetryBudget, opts.RetryBaseDelay, opts.OnRetry) }))
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("load aws configuration: %w", err)
	}
	if opts.OnCredentials != nil && cfg.Credentials != nil {
		cfg.Credentials = &notifyingCredentials{inner: cfg.Credentials, notify: opts.OnCredentials}
	}
	if opts.AccessKeyID == "" {
		if err := checkCredentials(ctx, cfg); err != nil {
			return nil, err
		}
	}
	defaulted := cfg.Region == ""
	if defaulted {
		cfg.Region = DefaultRegion
	}
	client := ec2.NewFromConfig(cfg, func(o *ec2.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
		o.APIOptions = append(o.APIOptions, explainRetries())
		o.APIOptions = append(o.APIOptions, opts.APIOptions...)
	})
	p := newWithAPI(client, cfg.Region, opts)
	p.defaulted = defaulted
	return p, nil
}

// RegionDefaulted reports that no region was configured (flag, [aws info], AWS_REGION, profile)
// and DefaultRegion is used, so the caller can say so once.
func (p *Provider) RegionDefaulted() bool { return p.defaulted }

// newWithAPI builds a provider over any ec2API implementation.
func newWithAPI(api ec2API, region string, opts Options) *Provider {
	p := &Provider{api: api, region: region, poll: opts.PollInterval, parallel: opts.Parallelism, version: opts.Version,
		leaseTTL: opts.LeaseTTL, leaseSettle: opts.LeaseSettle, retryBase: opts.RetryBaseDelay}
	if p.leaseTTL <= 0 {
		p.leaseTTL = DefaultLeaseTTL
	}
	if p.leaseSettle <= 0 {
		p.leaseSettle = DefaultLeaseSettle
	}
	if p.poll <= 0 {
		p.poll = DefaultPollInterval
	}
	if p.parallel <= 0 {
		p.parallel = DefaultParallelism
	}
	if p.version == "" {
		p.version = "dev"
	}
	return p
}

// InstanceMetadataURL is EC2's instance metadata service, as instances reach it.
const InstanceMetadataURL = "http://169.254.169.254"

// Name identifies the provider in messages.
func (p *Provider) Name() string { return "ec2" }

// Region is the region every call goes to, for messages ("image ami-1 not found in us-east-1").
func (p *Provider) Region() string { return p.region }

// Capabilities reports that EC2 shares nothing natively (setup exports /home over NFS). The
// login user depends on the image, so it is left to the template (node_image's user). Launch
// sizes its RunInstances calls from the user data itself, so it takes any number of instances.
func (p *Provider) Capabilities() cloud.Capabilities {
	return cloud.Capabilities{SharedFilesystem: false, DefaultLoginUser: defaultLoginUser, InstanceMetadata: InstanceMetadataURL}
}

// EndpointFromRegionHost maps StarCluster's [aws info] settings AWS_REGION_HOST, AWS_PORT,
// AWS_IS_SECURE and AWS_EC2_PATH onto an endpoint URL for Options.Endpoint, so old configs that
// point at a private EC2-compatible cloud keep working. An empty host returns "" (no override).
func EndpointFromRegionHost(host string, port int, secure bool, path string) string {
	host = strings.TrimSpace(host)
	if host == "" {
		return ""
	}
	scheme := "https"
	if !secure {
		scheme = "http"
	}
	if port > 0 {
		host = net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(port))
	}
	path = strings.TrimSpace(path)
	if path == "" || path == "/" {
		return scheme + "://" + host
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return scheme + "://" + host + strings.TrimRight(path, "/")
}

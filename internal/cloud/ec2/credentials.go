package ec2

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/smithy-go/logging"
)

// IMDSTimeout bounds each request to the instance metadata service when looking for an
// instance role's credentials: off EC2 nothing answers there, and the SDK's own patience (5 s
// per call, with retries) made a first run without credentials hang before saying so. Two
// requests (the IMDSv2 token, then the role) make the probe at most about two seconds.
const IMDSTimeout = time.Second

// CredentialsError is returned by New when the AWS SDK's chain (the config's keys, the
// environment, ~/.aws, SSO, the instance role) yields no credentials. Err is the SDK's reason,
// for the debug log; the CLI explains the ways to provide credentials instead.
type CredentialsError struct{ Err error }

func (e *CredentialsError) Error() string { return fmt.Sprintf("no AWS credentials found: %v", e.Err) }

func (e *CredentialsError) Unwrap() error { return e.Err }

// sdkLogger sends the SDK's own log lines (retries, "falling back to IMDSv1") to the debug log
// instead of the terminal, where the SDK's default logger writes them.
func sdkLogger(l *slog.Logger) logging.Logger {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		l.Debug("aws sdk: "+fmt.Sprintf(format, v...), "level", string(c))
	})
}

// credentialOptions bound the instance-role probe and route the SDK's logging.
func credentialOptions(l *slog.Logger) []func(*config.LoadOptions) error {
	logger := sdkLogger(l)
	client := imds.New(imds.Options{
		Endpoint:   os.Getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT"),
		HTTPClient: awshttp.NewBuildableClient().WithTimeout(IMDSTimeout),
		Retryer:    aws.NopRetryer{},
		Logger:     logger,
	})
	return []func(*config.LoadOptions) error{
		config.WithLogger(logger),
		config.WithEC2RoleCredentialOptions(func(o *ec2rolecreds.Options) { o.Client = client }),
	}
}

// checkCredentials asks the chain for credentials once, so a machine without any hears so at
// once and in one sentence, not from the first API call's raw error.
func checkCredentials(ctx context.Context, cfg aws.Config) error {
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return &CredentialsError{Err: err}
	}
	return nil
}

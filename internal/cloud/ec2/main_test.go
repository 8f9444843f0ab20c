package ec2

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go/middleware"

	"github.com/clusterctl/clusterctl/internal/cloud/ec2/mototest"
)

// moto is the one moto server the package's tests share (reset before each test); nil with
// motoSkip set when moto is not installed. observed counts every call any test's provider made.
// Test-only state, set once in TestMain.
var (
	moto     *mototest.Server
	motoSkip string
	observed = &CallCounter{}
)

// TestMain runs the tests on one moto server, then checks that every EC2 operation they saw the
// provider call is in the IAM action table.
func TestMain(m *testing.M) {
	code := mototest.Main(m, func(s *mototest.Server, why string) { moto, motoSkip = s, why })
	if missing := checkObserved(observed); code == 0 && len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: the tests called EC2 operations the IAM action table (Actions) lacks: %s\n", strings.Join(missing, ", "))
		code = 1
	}
	os.Exit(code)
}

// testPollInterval keeps waits short against moto, whose state changes are immediate.
const testPollInterval = 20 * time.Millisecond

// env is a test's view of moto: the provider under test, its call counter, and a raw SDK
// client for asserting what moto really holds.
type env struct {
	p     *Provider
	calls *CallCounter
	raw   *ec2.Client
	ctx   context.Context
}

// newEnv resets moto and builds a provider over it with a call counter and any extra
// middleware.
func newEnv(t *testing.T, extra ...func(*middleware.Stack) error) *env {
	t.Helper()
	if moto == nil {
		t.Skip(motoSkip)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	if err := moto.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	calls := &CallCounter{}
	p, err := New(ctx, Options{
		Region: mototest.Region, Endpoint: moto.Endpoint(),
		AccessKeyID: mototest.AccessKeyID, SecretAccessKey: mototest.SecretAccessKey,
		APIOptions:   append([]func(*middleware.Stack) error{calls.APIOption(), observed.APIOption()}, extra...),
		PollInterval: testPollInterval,
		Version:      "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	return &env{p: p, calls: calls, raw: rawClient(t), ctx: ctx}
}

// rawClient is a plain SDK client on moto, outside the provider, for checking and changing
// moto's state behind the provider's back.
func rawClient(t *testing.T) *ec2.Client {
	t.Helper()
	if moto == nil {
		t.Skip(motoSkip)
	}
	return ec2.New(ec2.Options{
		Region:       mototest.Region,
		BaseEndpoint: aws.String(moto.Endpoint()),
		Credentials:  credentials.NewStaticCredentialsProvider(mototest.AccessKeyID, mototest.SecretAccessKey, ""),
	})
}

package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/crypto/ssh"

	"github.com/clusterctl/clusterctl/internal/cloud/ec2"
	"github.com/clusterctl/clusterctl/internal/cloud/ec2/mototest"
	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/ui"
)

// moto is the one moto server this package's tests share, reset before each test that uses
// it; motoSkip says why it is missing; observed collects the EC2 calls every command made.
// Test-only state, set once in TestMain.
var (
	moto     *mototest.Server
	motoSkip string
	observed = &observedCalls{}
)

// TestMain runs the tests on one moto server, then checks that the IAM policy clusterctl prints
// for each purpose allows every EC2 call the tests saw a command of that purpose make.
func TestMain(m *testing.M) {
	// SSH only to this machine and its local clusters: a moto instance's address is made up
	// and may belong to someone.
	os.Setenv(remote.DialAllowEnv, "127.0.0.0/8,::1/128,10.213.0.0/16")
	code := mototest.Main(m, func(s *mototest.Server, why string) { moto, motoSkip = s, why })
	if missing := observed.uncovered(); code == 0 && len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: iam-policy does not allow EC2 calls the tests made:\n  %s\n", strings.Join(missing, "\n  "))
		code = 1
	}
	os.Exit(code)
}

// awsEnv is one test's cloud: a fresh moto, a home with a key pair imported into it and a
// config file, the CLI wired to moto, and a raw client to check what moto holds.
type awsEnv struct {
	t       testing.TB
	home    string
	config  string
	keyFile string
	raw     *awsec2.Client
	calls   *ec2.CallCounter
	extra   []func(*middleware.Stack) error
	ip      func(context.Context) (netip.Addr, error)
	timeout time.Duration // wait timeout; 0 means 20 s
	// seams run after the moto wiring, so a test can look at or adjust the app.
	seams []func(*app)
}

const testImage = mototest.ImageAMD64

func newAWSEnv(t testing.TB, clusterSection string) *awsEnv {
	t.Helper()
	if moto == nil {
		t.Skip(motoSkip)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := moto.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	home := newHome(t)
	t.Setenv("AWS_ACCESS_KEY_ID", mototest.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", mototest.SecretAccessKey)
	t.Setenv("AWS_ENDPOINT_URL_EC2", moto.Endpoint())
	t.Setenv("AWS_REGION", mototest.Region)
	e := &awsEnv{t: t, home: home, calls: &ec2.CallCounter{},
		ip: func(context.Context) (netip.Addr, error) { return netip.MustParseAddr("203.0.113.7"), nil }}
	e.raw = awsec2.New(awsec2.Options{Region: mototest.Region, BaseEndpoint: aws.String(moto.Endpoint()),
		Credentials: credentials.NewStaticCredentialsProvider(mototest.AccessKeyID, mototest.SecretAccessKey, "")})
	e.keyFile = filepath.Join(home, ".ssh", "mykey.rsa")
	writeRSAKey(t, e.keyFile)
	if r := e.cli("createkey", "mykey", "--import-key", e.keyFile+".pub"); r.code != 0 {
		t.Fatalf("import key: %+v", r)
	}
	e.config = filepath.Join(home, "config.ini")
	text := fmt.Sprintf(`[global]
DEFAULT_TEMPLATE = small

[aws info]
AWS_REGION_NAME = us-east-1

[key mykey]
KEY_LOCATION = %s

[permission web]
FROM_PORT = 80
TO_PORT = 80
CIDR_IP = 198.51.100.0/24

%s
`, e.keyFile, clusterSection)
	if err := os.WriteFile(e.config, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// smallCluster is a three-instance template on moto's fixture image.
func smallCluster(extra string) string {
	return `[cluster small]
KEYNAME = mykey
CLUSTER_SIZE = 3
NODE_IMAGE_ID = ` + testImage + `
NODE_INSTANCE_TYPE = t3.micro
PERMISSIONS = web
` + extra
}

// cli runs clusterctl against moto with this test's config.
func (e *awsEnv) cli(args ...string) cliResult {
	e.t.Helper()
	streams, _, out, errOut := ui.TestStreams()
	if e.config != "" {
		args = append([]string{"--config", e.config}, args...)
	}
	calls := &ec2.CallCounter{}
	defer func() { observed.record(args, calls.Snapshot()) }()
	code := runWith(context.Background(), args, streams, func(a *app) {
		a.apiOptions = append([]func(*middleware.Stack) error{e.calls.APIOption(), calls.APIOption()}, e.extra...)
		a.pollInterval = 20 * time.Millisecond
		a.waitTimeout = 20 * time.Second
		if e.timeout > 0 {
			a.waitTimeout = e.timeout
		}
		a.publicIP = e.ip
		a.localStateDir = e.home // no local clusters of this machine leak into EC2 listings
		for _, s := range e.seams {
			s(a)
		}
	})
	return cliResult{code: code, out: out.String(), errOut: errOut.String()}
}

// must runs a command that has to succeed.
func (e *awsEnv) must(args ...string) cliResult {
	e.t.Helper()
	r := e.cli(args...)
	if r.code != 0 {
		e.t.Fatalf("clusterctl %v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.out, r.errOut)
	}
	return r
}

// instances returns moto's instances carrying the cluster tag, in any state but terminated.
func (e *awsEnv) instances(tag string) []types.Instance {
	e.t.Helper()
	out, err := e.raw.DescribeInstances(context.Background(), &awsec2.DescribeInstancesInput{Filters: []types.Filter{
		{Name: aws.String("tag:clusterctl:cluster"), Values: []string{tag}},
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped"}},
	}})
	if err != nil {
		e.t.Fatal(err)
	}
	var insts []types.Instance
	for _, r := range out.Reservations {
		insts = append(insts, r.Instances...)
	}
	return insts
}

// checkTerminated fails the test when moto still holds an instance or the security group of
// cluster tag after its terminate.
func (e *awsEnv) checkTerminated(tag string) {
	e.t.Helper()
	if n := len(e.instances(tag)); n != 0 {
		e.t.Errorf("%d instances of %s left after terminate", n, tag)
	}
	if n := len(e.groups(tag)); n != 0 {
		e.t.Errorf("security group of %s left after terminate", tag)
	}
}

// groups returns moto's security groups named @sc-TAG.
func (e *awsEnv) groups(tag string) []types.SecurityGroup {
	e.t.Helper()
	out, err := e.raw.DescribeSecurityGroups(context.Background(), &awsec2.DescribeSecurityGroupsInput{
		Filters: []types.Filter{{Name: aws.String("group-name"), Values: []string{"@sc-" + tag}}}})
	if err != nil {
		e.t.Fatal(err)
	}
	return out.SecurityGroups
}

func tagValue(tags []types.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

func writeRSAKey(t testing.TB, path string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	der := x509.MarshalPKCS1PrivateKey(key)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	pub, err := ssh.NewPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(pub), 0o644); err != nil {
		t.Fatal(err)
	}
}

// failNth is middleware that fails the nth call of an operation, to inject a failure mid-start.
func failNth(op string, n int) func(*middleware.Stack) error {
	count := 0
	return func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("failNth",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
				middleware.InitializeOutput, middleware.Metadata, error) {
				if awsmiddleware.GetOperationName(ctx) == op {
					count++
					if count == n {
						return middleware.InitializeOutput{}, middleware.Metadata{}, fmt.Errorf("injected failure of %s", op)
					}
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	}
}

var errLookup = errors.New("look up this machine's public address: no network")

func itoa(n int) string { return fmt.Sprint(n) }

// spotStaysPending makes DescribeInstances report running spot instances as pending, the way
// EC2 shows spot capacity that is not fulfilled.
func spotStaysPending() func(*middleware.Stack) error {
	return rewriteOutput("spotStaysPending", func(res *awsec2.DescribeInstancesOutput) {
		for _, r := range res.Reservations {
			for i := range r.Instances {
				in := r.Instances[i]
				if in.InstanceLifecycle == types.InstanceLifecycleTypeSpot && in.State != nil && in.State.Name == types.InstanceStateNameRunning {
					r.Instances[i].State = &types.InstanceState{Name: types.InstanceStateNamePending, Code: aws.Int32(0)}
				}
			}
		}
	})
}

// rewriteOutput is middleware that lets edit change every successful result of type T, to
// show what moto never does (spot capacity pending, volumes being deleted).
func rewriteOutput[T any](name string, edit func(*T)) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc(name,
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
				middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				if res, ok := out.Result.(*T); ok && err == nil {
					edit(res)
				}
				return out, md, err
			}), middleware.After)
	}
}

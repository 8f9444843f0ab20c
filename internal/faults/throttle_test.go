package faults

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/clusterctl/clusterctl/internal/cloud/ec2/mototest"
)

// TestEveryOtherRequestThrottled: EC2 refuses every other request with RequestLimitExceeded.
// start, addnode and terminate run through it as they are (the binary, default settings: the
// SDK's adaptive retry slowing down, the lease taken with its own quick retries), succeed,
// say that they are backing off, and leave nothing behind.
func TestEveryOtherRequestThrottled(t *testing.T) {
	t.Parallel()
	if moto == nil {
		t.Skip(motoSkip)
	}
	proxy := mototest.NewFaultProxy(t, moto.Endpoint(), mototest.EveryOther(mototest.Throttled))
	if err := moto.Reset(t.Context()); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(t.TempDir(), "mykey.pem")
	e := newEnv(t, `[global]
REFRESH_INTERVAL = 1

[key mykey]
KEY_LOCATION = `+key+`

[cluster small]
KEYNAME = mykey
CLUSTER_SIZE = 2
NODE_IMAGE_ID = `+mototest.ImageAMD64+`
NODE_INSTANCE_TYPE = t3.micro
SSH_CIDR = 203.0.113.7/32
`)
	e.extra = append(e.extra, "AWS_ACCESS_KEY_ID="+mototest.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+mototest.SecretAccessKey,
		"AWS_REGION="+mototest.Region, "AWS_ENDPOINT_URL_EC2="+proxy.URL())
	const tag = "rough"
	e.must("createkey", "mykey", "-o", key)
	start := time.Now()
	r := e.must("start", "-o", "-c", "small", tag)
	if !strings.Contains(r.errOut, "EC2 is throttling or failing requests (RequestLimitExceeded): backing off") {
		t.Errorf("start said nothing of backing off:\n%s", r.errOut)
	}
	e.must("addnode", "-o", tag)
	e.must("terminate", "-y", tag)
	t.Logf("start, addnode and terminate with every other request throttled: %s, %d requests refused",
		time.Since(start).Round(time.Second), proxy.Injected()["RequestLimitExceeded"])

	raw := ec2.New(ec2.Options{Region: mototest.Region, BaseEndpoint: aws.String(moto.Endpoint()),
		Credentials: credentials.NewStaticCredentialsProvider(mototest.AccessKeyID, mototest.SecretAccessKey, "")})
	ctx := t.Context()
	out, err := raw.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{
		{Name: aws.String("tag:clusterctl:cluster"), Values: []string{tag}},
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped", "shutting-down"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Reservations) != 0 {
		t.Errorf("instances left: %v", out.Reservations)
	}
	groups, err := raw.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
		{Name: aws.String("group-name"), Values: []string{"@sc-" + tag}}}})
	if err != nil || len(groups.SecurityGroups) != 0 {
		t.Errorf("security group left: %v %v", groups, err)
	}
}

package mototest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// TestStartResetClose checks the harness end to end: moto answers on loopback, serves the
// fixture images, forgets what a test created on Reset, and stops on Close.
func TestStartResetClose(t *testing.T) {
	s := Start(t)
	ctx := context.Background()
	client := ec2.New(ec2.Options{Region: Region, BaseEndpoint: aws.String(s.Endpoint()),
		Credentials: credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")})
	steps := []struct {
		name string
		run  func() error
		keys int
	}{
		{"create a key pair", func() error {
			_, err := client.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("k")})
			return err
		}, 1},
		{"reset", func() error { return s.Reset(ctx) }, 0},
	}
	for _, st := range steps {
		if err := st.run(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		out, err := client.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{})
		if err != nil || len(out.KeyPairs) != st.keys {
			t.Fatalf("after %s: %d key pairs, %v; want %d", st.name, len(out.KeyPairs), err, st.keys)
		}
	}
	imgs, err := client.DescribeImages(ctx, &ec2.DescribeImagesInput{})
	if err != nil || len(imgs.Images) != len(Images()) {
		t.Fatalf("moto serves %d images, want the %d fixtures: %v", len(imgs.Images), len(Images()), err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := client.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{}, func(o *ec2.Options) { o.RetryMaxAttempts = 1 }); err == nil {
		t.Fatal("moto still answers after Close")
	}
}

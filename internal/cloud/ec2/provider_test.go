package ec2

import (
	"context"
	"testing"
)

func TestEndpointFromRegionHost(t *testing.T) {
	cases := []struct {
		host   string
		port   int
		secure bool
		path   string
		want   string
	}{
		{"", 0, true, "/", ""},
		{"ec2.eu-west-1.amazonaws.com", 0, true, "/", "https://ec2.eu-west-1.amazonaws.com"},
		{"ec2.eu-west-1.amazonaws.com", 0, true, "", "https://ec2.eu-west-1.amazonaws.com"},
		{"cloud.example.org", 8773, false, "/services/Cloud", "http://cloud.example.org:8773/services/Cloud"},
		{"cloud.example.org", 8773, true, "services/Cloud/", "https://cloud.example.org:8773/services/Cloud"},
		{"::1", 5000, false, "/", "http://[::1]:5000"},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			if got := EndpointFromRegionHost(tc.host, tc.port, tc.secure, tc.path); got != tc.want {
				t.Fatalf("EndpointFromRegionHost(%q, %d, %v, %q) = %q, want %q", tc.host, tc.port, tc.secure, tc.path, got, tc.want)
			}
		})
	}
}

func TestNewOptions(t *testing.T) {
	cases := []struct {
		name    string
		opts    Options
		wantErr bool
	}{
		{"half a key pair", Options{Region: "us-east-1", AccessKeyID: "AKIAEXAMPLE"}, true},
		{"static keys", Options{Region: "eu-west-1", AccessKeyID: "testing", SecretAccessKey: "testing"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(context.Background(), tc.opts)
			if (err != nil) != tc.wantErr {
				t.Fatalf("New: %v", err)
			}
			if err == nil && (p.Region() != tc.opts.Region || p.poll != DefaultPollInterval || p.Name() != "ec2") {
				t.Fatalf("provider %+v", p)
			}
		})
	}
}

package main

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cloud/ec2/mototest"
	"github.com/clusterctl/clusterctl/internal/cluster"
)

// TestLoginUserGuessedFromImage: without LOGIN_USER, the login user comes from the image EC2
// describes and is recorded with the cluster; images that disagree are refused before launch.
func TestLoginUserGuessedFromImage(t *testing.T) {
	tests := []struct {
		name, extra, want, wantErr string
	}{
		{name: "debian", want: "admin"},
		{name: "ubuntu", extra: "NODE_IMAGE_ID = " + mototest.ImageUbuntuNoble + "\n", want: "ubuntu"},
		{name: "written", extra: "LOGIN_USER = scientist\n", want: "scientist"},
		{name: "images disagree", extra: "MASTER_IMAGE_ID = " + mototest.ImageUbuntuNoble + "\n",
			wantErr: "the cluster's images have different login users"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A later NODE_IMAGE_ID wins over smallCluster's own.
			e := newAWSEnv(t, smallCluster(tt.extra))
			r := e.cli("start", "-o", "demo")
			if tt.wantErr != "" {
				if r.code == 0 || !strings.Contains(r.errOut, tt.wantErr) || !strings.Contains(r.errOut, "LOGIN_USER") {
					t.Fatalf("start: exit %d\n%s", r.code, r.errOut)
				}
				if n := len(e.instances("demo")) + len(e.groups("demo")); n != 0 {
					t.Errorf("%d resources exist after the refused start", n)
				}
				return
			}
			if r.code != 0 {
				t.Fatalf("start: exit %d\n%s", r.code, r.errOut)
			}
			tags := map[string]string{}
			for _, tg := range e.groups("demo")[0].Tags {
				tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
			}
			data, err := cloud.DecodeRecord(tags)
			if err != nil {
				t.Fatal(err)
			}
			rec, err := cluster.DecodeRecord(data)
			if err != nil || rec.LoginUser != tt.want {
				t.Errorf("recorded login user %q (%v), want %s", rec.LoginUser, err, tt.want)
			}
			e.must("terminate", "-y", "demo")
		})
	}
}

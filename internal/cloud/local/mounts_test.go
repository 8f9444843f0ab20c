package local

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

func TestClusterMounts(t *testing.T) {
	vol := "vol-0123456789ab"
	cases := []struct {
		name    string
		in      []cloud.Mount
		want    []cloud.Mount
		wantErr bool
	}{
		{name: "home added", in: nil, want: []cloud.Mount{{Path: "/home"}}},
		{name: "home first", in: []cloud.Mount{{Path: "/data", VolumeID: vol}},
			want: []cloud.Mount{{Path: "/home"}, {Path: "/data", VolumeID: vol}}},
		{name: "home kept where given", in: []cloud.Mount{{Path: "/data", VolumeID: vol}, {Path: "/home"}},
			want: []cloud.Mount{{Path: "/data", VolumeID: vol}, {Path: "/home"}}},
		{name: "volume at /home", in: []cloud.Mount{{Path: "/home", VolumeID: vol}}, want: []cloud.Mount{{Path: "/home", VolumeID: vol}}},
		{name: "relative", in: []cloud.Mount{{Path: "data"}}, wantErr: true},
		{name: "root", in: []cloud.Mount{{Path: "/"}}, wantErr: true},
		{name: "unclean", in: []cloud.Mount{{Path: "/a/../b"}}, wantErr: true},
		{name: "colon", in: []cloud.Mount{{Path: "/a:b"}}, wantErr: true},
		{name: "twice", in: []cloud.Mount{{Path: "/data"}, {Path: "/data", VolumeID: vol}}, wantErr: true},
		{name: "ec2 volume id", in: []cloud.Mount{{Path: "/data", VolumeID: "vol-0123456789abcdef0"}}, wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := clusterMounts(c.in)
			if (err != nil) != c.wantErr {
				t.Fatalf("error = %v, want error %v", err, c.wantErr)
			}
			if !c.wantErr && !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestHostPath(t *testing.T) {
	p, err := New(Options{StateDir: "/s"})
	if err != nil {
		t.Fatal(err)
	}
	c := clusterRecord{Tag: "demo", Mounts: []cloud.Mount{{Path: "/home"}, {Path: "/home/shared", VolumeID: "vol-0123456789ab"}}}
	cases := []struct {
		inside string
		want   string
		ok     bool
	}{
		{"/home/admin", "/s/clusters/demo/shared/home/admin", true},
		{"/home", "/s/clusters/demo/shared/home", true},
		{"/home/shared/x", "/s/volumes/vol-0123456789ab/data/x", true},
		{"/homer", "", false},
		{"/root", "", false},
	}
	for _, c2 := range cases {
		root, rel, ok := p.hostRoot(c, c2.inside)
		got := ""
		if ok {
			got = filepath.Join(root, rel)
		}
		if got != c2.want || ok != c2.ok {
			t.Errorf("hostRoot(%s) = %s %s, %v; want %s, %v", c2.inside, root, rel, ok, c2.want, c2.ok)
		}
	}
}

package cluster

import (
	"errors"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

func testHostKey(t testing.TB) string {
	keys, err := NewHostKeys([]string{"x"})
	if err != nil {
		t.Fatal(err)
	}
	return keys["x"].Public
}

// TestMemberProblem: a tag makes no member; the group, the key pair and every tag's pattern
// must agree, and each refusal names what failed.
func TestMemberProblem(t *testing.T) {
	cl := cloud.Cluster{Tag: "c", GroupID: "sg-1", GroupName: "@sc-c"}
	rec := &Record{KeyName: "mykey"}
	good := cloud.Instance{ID: "i-1", Alias: "node001", Role: cloud.RoleNode, Groups: []string{"sg-9", "sg-1"}, KeyName: "mykey",
		PrivateIP: "10.0.0.5", PublicIP: "203.0.113.9", HostKey: testHostKey(t)}
	if p := memberProblem("c", cl, rec, good); p != "" {
		t.Fatalf("a member refused: %s", p)
	}
	for _, tc := range []struct {
		name, want string
		edit       func(*cloud.Instance, *cloud.Cluster)
	}{
		{"not in the group", "not in the cluster's security group @sc-c sg-1", func(in *cloud.Instance, _ *cloud.Cluster) { in.Groups = []string{"sg-2"} }},
		{"group gone", "is gone", func(_ *cloud.Instance, c *cloud.Cluster) { c.GroupID = "" }},
		{"other key pair", `launched with key pair "theirs"`, func(in *cloud.Instance, _ *cloud.Cluster) { in.KeyName = "theirs" }},
		{"alias with shell characters", `tag clusterctl:alias = "n;touch /tmp/x"`, func(in *cloud.Instance, _ *cloud.Cluster) { in.Alias = "n;touch /tmp/x" }},
		{"alias with a newline", "tag clusterctl:alias", func(in *cloud.Instance, _ *cloud.Cluster) { in.Alias = "node001\nid" }},
		{"role", "tag clusterctl:role", func(in *cloud.Instance, _ *cloud.Cluster) { in.Role = "boss" }},
		{"role and alias disagree", "disagree", func(in *cloud.Instance, _ *cloud.Cluster) { in.Role = cloud.RoleMaster }},
		{"host key with a newline", "tag clusterctl:hostkey", func(in *cloud.Instance, _ *cloud.Cluster) { in.HostKey += "\nCLUSTERCTL_EOF\nid" }},
		{"host key of another type", "tag clusterctl:hostkey", func(in *cloud.Instance, _ *cloud.Cluster) {
			in.HostKey = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC"
		}},
		{"address", "is not an IP address", func(in *cloud.Instance, _ *cloud.Cluster) { in.PrivateIP = "10.0.0.5; id" }},
	} {
		in, c := good, cl
		in.Groups = append([]string(nil), good.Groups...)
		tc.edit(&in, &c)
		if p := memberProblem("c", c, rec, in); !strings.Contains(p, tc.want) {
			t.Errorf("%s: got %q, want it to say %q", tc.name, p, tc.want)
		}
	}
}

// TestMembersRefuseDuplicateAliases: two members claiming one alias stop the command, naming
// both instances and the tag.
func TestMembersRefuseDuplicateAliases(t *testing.T) {
	e := &Engine{}
	cl := cloud.Cluster{Tag: "c", GroupID: "sg-1"}
	in := cloud.Instance{ID: "i-1", Alias: "node001", Role: cloud.RoleNode, Groups: []string{"sg-1"}}
	other := in
	other.ID = "i-2"
	foreign := in
	foreign.ID, foreign.Groups = "i-3", nil
	got, err := e.members("c", cl, nil, []cloud.Instance{in, foreign})
	if err != nil || len(got) != 1 || got[0].ID != "i-1" {
		t.Fatalf("foreign instance not dropped: %v %v", got, err)
	}
	_, err = e.members("c", cl, nil, []cloud.Instance{in, other})
	var dup *DuplicateAliasError
	if !errors.As(err, &dup) || !strings.Contains(err.Error(), "i-1") || !strings.Contains(err.Error(), "i-2") || !strings.Contains(err.Error(), cloud.TagAlias) {
		t.Fatalf("duplicate alias: %v", err)
	}
}

func FuzzParseHostKey(f *testing.F) {
	f.Add(testHostKey(f))
	f.Add(testHostKey(f) + "\nCLUSTERCTL_EOF\nid")
	f.Add("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI comment")
	f.Add("ssh-rsa AAAA")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseHostKey(s)
		if err != nil {
			return
		}
		if strings.ContainsAny(s, "\n\r\x00 \t") && strings.Count(s, " ") != 1 {
			t.Fatalf("accepted %q", s)
		}
		if k.Type() != "ssh-ed25519" {
			t.Fatalf("accepted a %s key", k.Type())
		}
	})
}

// FuzzMemberProblem: whatever the tags hold, an instance taken for a member has an alias, a
// role and a host key that are safe in a shell script and a known_hosts line.
func FuzzMemberProblem(f *testing.F) {
	f.Add("node001", "node", testHostKey(f), "10.0.0.5")
	f.Add("n;id", "node", "", "10.0.0.5")
	f.Add("master", "master", "ssh-ed25519 AAAA\nx", "::1")
	f.Add("node001\n", "node", "", "1.2.3.4; id")
	cl := cloud.Cluster{Tag: "c", GroupID: "sg-1"}
	rec := &Record{}
	f.Fuzz(func(t *testing.T, alias, role, hostKey, ip string) {
		in := cloud.Instance{ID: "i-1", Alias: alias, Role: cloud.Role(role), HostKey: hostKey, PrivateIP: ip, Groups: []string{"sg-1"}}
		if memberProblem("c", cl, rec, in) != "" {
			return
		}
		for _, s := range []string{alias, role, ip} {
			if strings.ContainsAny(s, " \t\n\r;|&$`'\"\\<>(){}*?[]#~") {
				t.Fatalf("member with unsafe field %q", s)
			}
		}
		if strings.ContainsAny(hostKey, "\n\r") {
			t.Fatalf("member with a multi-line host key %q", hostKey)
		}
	})
}

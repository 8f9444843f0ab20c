package setup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

func testNodes() []*Node {
	mk := func(alias, ip string, role cloud.Role) *Node {
		return &Node{Instance: cloud.Instance{ID: "i-" + alias, Alias: alias, PrivateIP: ip, Role: role}}
	}
	return []*Node{mk("master", "10.0.0.10", cloud.RoleMaster), mk("node001", "10.0.0.11", cloud.RoleNode), mk("node002", "10.0.0.12", cloud.RoleNode)}
}

// TestNFSRendering: the exports name every path for each node by address (never *), the
// fstab lines mount the master's paths, and the scripts run the expected commands. NFS itself
// cannot run on this kernel, so the rendered files are applied to temp files by the real
// block-edit script and compared.
func TestNFSRendering(t *testing.T) {
	nodes := testNodes()
	paths := []string{"/home", "/data"}
	edit := exportsEdit(nodes[1:], paths, nil)
	edit.File = filepath.Join(t.TempDir(), "clusterctl.exports")
	got := runEdit(t, edit)
	want := `# clusterctl begin
/home 10.0.0.11(rw,async,no_root_squash,no_subtree_check) # node001
/data 10.0.0.11(rw,async,no_root_squash,no_subtree_check) # node001
/home 10.0.0.12(rw,async,no_root_squash,no_subtree_check) # node002
/data 10.0.0.12(rw,async,no_root_squash,no_subtree_check) # node002
# clusterctl end
`
	if got != want {
		t.Fatalf("exports:\n%s\nwant:\n%s", got, want)
	}
	if strings.Contains(got, "*") {
		t.Fatal("exports must never open to *")
	}
	// A removed node loses exactly its lines; an added one appends its own.
	gone := exportsEdit(nil, paths, nodes[1:2])
	gone.File = edit.File
	if got := runEdit(t, gone); strings.Contains(got, "10.0.0.11") || !strings.Contains(got, "10.0.0.12(rw") {
		t.Fatalf("after removing node001:\n%s", got)
	}

	fstab := fstabEdit(nodes[0], paths)
	fstab.File = filepath.Join(t.TempDir(), "fstab")
	if err := os.WriteFile(fstab.File, []byte("UUID=abc / ext4 defaults 0 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got = runEdit(t, fstab)
	want = "UUID=abc / ext4 defaults 0 1\n# clusterctl begin\nmaster:/home /home nfs rw,hard,nofail,_netdev 0 0\nmaster:/data /data nfs rw,hard,nofail,_netdev 0 0\n# clusterctl end\n"
	if got != want {
		t.Fatalf("fstab:\n%s\nwant:\n%s", got, want)
	}

	server := nfsServerScript(nodes[1:], paths)
	for _, cmd := range []string{"apt-get install -y -qq nfs-kernel-server", "f=/etc/exports.d/clusterctl.exports", "exportfs -ra",
		"/home 10.0.0.11(rw,async,no_root_squash,no_subtree_check) # node001"} {
		if !strings.Contains(server, cmd) {
			t.Errorf("server script lacks %q:\n%s", cmd, server)
		}
	}
	client := nfsClientScript(nodes[0], paths)
	for _, cmd := range []string{"apt-get install -y -qq nfs-common", "f=/etc/fstab", "mp=/home\n", "mp=/data\n", `mountpoint -q "$mp" || mount -- "$mp"`} {
		if !strings.Contains(client, cmd) {
			t.Errorf("client script lacks %q:\n%s", cmd, client)
		}
	}
}

func TestMountVolumeScript(t *testing.T) {
	s := mountVolumeScript(Volume{ID: "vol-0abc123", Name: "data", MountPath: "/data", Device: "/dev/sdz", Partition: 0, Format: true})
	for _, want := range []string{
		"/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0abc123", "/dev/sdz", "/dev/xvdz",
		"if [ yes = yes ]; then mkfs.ext4", "auto defaults,nofail 0 2", "mp=/data\n", `mountpoint -q "$mp" || mount -- "$mp"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q:\n%s", want, s)
		}
	}
	if s := mountVolumeScript(Volume{ID: "vol-1", MountPath: "/x", Device: "/dev/sdy"}); !strings.Contains(s, "if [ no = yes ]") {
		t.Errorf("a volume not made by createvolume must never be formatted:\n%s", s)
	}
	// The script is valid shell.
	if err := runShell(t, "sh -n -c "+quoteForShell(s)); err != nil {
		t.Fatal(err)
	}
}

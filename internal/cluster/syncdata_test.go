package cluster

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSyncDataPieces(t *testing.T) {
	for _, tc := range []struct {
		dirs []string
		ok   bool
	}{
		{[]string{"/data/genomes", "/srv/db/"}, true},
		{nil, false},
		{[]string{"data"}, false},
		{[]string{"/"}, false},
		{[]string{"/data/../etc"}, false},
		{[]string{"/data//x"}, false},
	} {
		if err := checkSyncDirs(tc.dirs); (err == nil) != tc.ok {
			t.Errorf("checkSyncDirs(%q) = %v", tc.dirs, err)
		}
	}
	for _, tc := range []struct {
		bytes    int64
		headroom int
		want     int
	}{{0, 0, 1}, {1, 0, 2}, {3 << 30, 20, 5}, {10 << 30, 50, 16}} {
		if got := stagingSizeGB(tc.bytes, tc.headroom); got != tc.want {
			t.Errorf("stagingSizeGB(%d, %d) = %d, want %d", tc.bytes, tc.headroom, got, tc.want)
		}
	}
	r := Record{Template: "render", Copies: []RecordVolume{
		{Name: "refs", MountPath: "/refs", SnapshotID: "snap-11111111"},
		{Name: "data", MountPath: "/data", SnapshotID: "snap-22222222", List: true},
		{Name: "data2", MountPath: "/opt/db", SnapshotID: "snap-33333333", List: true},
	}}
	current := map[string]string{"refs": "snap-44444444", "data2": "snap-55555555"}
	if got := configLines(r, 0, current); !slices.Equal(got, []string{"[volume refs]", "SNAPSHOT_ID = snap-44444444"}) {
		t.Errorf("config lines of a [volume]: %q", got)
	}
	if got := configLines(r, 2, current); !slices.Equal(got, []string{"[cluster render]", "DATA_SNAPSHOTS = snap-22222222 snap-55555555:/opt/db"}) {
		t.Errorf("config lines of DATA_SNAPSHOTS: %q", got)
	}
	if err := (Staging{ID: "vol-1;reboot"}).check(); err == nil {
		t.Error("a staging volume id that is not one was accepted")
	}
}

// TestCopyScriptCopies runs syncdata's copy script for a provider that attaches volumes as
// directories (the branch that needs no block device): a directory is copied as itself, one
// ending in / by its contents, and the staging mount point is not touched.
func TestCopyScriptCopies(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"genomes/hg38.txt": "ACGT", "release/notes.txt": "v2", "release/sub/x": "x"} {
		p := filepath.Join(dir, "src", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	target := filepath.Join(dir, "volume")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	v := Staging{ID: "vol-0123456789ab", Device: "/dev/sdf", Dir: target}
	script := copyScript([]string{filepath.Join(dir, "src", "genomes"), filepath.Join(dir, "src", "release") + "/"}, v)
	if out, err := exec.Command("sh", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("copy script: %v\n%s", err, out)
	}
	var got []string
	_ = filepath.WalkDir(target, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			got = append(got, strings.TrimPrefix(p, target+"/"))
		}
		return nil
	})
	slices.Sort(got)
	if want := []string{"genomes/hg38.txt", "notes.txt", "sub/x"}; !slices.Equal(got, want) {
		t.Errorf("the volume holds %q, want %q", got, want)
	}
	if _, err := os.Stat(stagingMount(v)); !os.IsNotExist(err) {
		t.Errorf("the staging mount point was made: %v", err)
	}
}

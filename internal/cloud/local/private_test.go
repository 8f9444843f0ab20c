package local

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// TestStateIsPrivate: the host's users reach nothing of a running cluster (0700 state tree,
// console logs 0600), a setuid program made on a shared directory runs without its setuid bit
// in every node (nosuid,nodev binds), and deleting the cluster and its volume leaves no mount.
func TestStateIsPrivate(t *testing.T) {
	p := newRealProvider(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// An older clusterctl made the state directory world-readable: it is tightened.
	if err := os.Chmod(p.stateDir, 0o755); err != nil {
		t.Fatal(err)
	}
	vol, err := p.CreateVolume(ctx, cloud.VolumeSpec{SizeGB: 1, Name: "data"})
	if err != nil {
		t.Fatal(err)
	}
	tc := startCluster(ctx, t, p, clusterSpec{tag: "priv", nodes: 1,
		mounts: []cloud.Mount{{Path: "/home"}, {Path: "/data", VolumeID: vol.ID}}})

	for _, d := range []string{p.stateDir, p.clustersDir(), p.volumesDir(), p.imageDir} {
		if st, err := os.Stat(d); err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v %v, want 0700", d, st.Mode().Perm(), err)
		}
	}
	for _, in := range tc.insts {
		log := filepath.Join(p.instanceDir(tc.tag, in.ID), "console.log")
		if st, err := os.Stat(log); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v %v, want 0600", log, st.Mode().Perm(), err)
		}
	}
	for _, path := range []string{"/home", "/data"} {
		opts := tc.mustRun(t, "node001", "findmnt -no OPTIONS "+path)
		if !strings.Contains(opts, "nosuid") || !strings.Contains(opts, "nodev") {
			t.Errorf("%s on node001 is mounted %s", path, opts)
		}
		// Root on the master plants a setuid-root copy of id; a user on node001 runs it.
		tc.mustRun(t, "master", "sudo install -m 4755 /usr/bin/id "+path+"/suid-id")
		if got := tc.mustRun(t, "node001", path+"/suid-id -u"); got == "0" {
			t.Errorf("a setuid program on %s ran as root", path)
		}
	}

	tc.teardown(t)
	if err := p.DeleteVolume(ctx, vol.ID); err != nil {
		t.Fatal(err)
	}
	if mps, err := mountsUnder(p.stateDir); err != nil || len(mps) != 0 {
		t.Errorf("mounts left under the state directory: %v %v", mps, err)
	}
}

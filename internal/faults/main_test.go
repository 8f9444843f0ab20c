package faults

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/clusterctl/clusterctl/internal/cloud/ec2/mototest"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// Test-only state, set once in TestMain: the clusterctl binary the tests run, why local
// clusters cannot run here (empty when they can), and the moto server.
var (
	binary    string
	localSkip string
	moto      *mototest.Server
	motoSkip  string
)

// dialAllow keeps every SSH connection of the tests on this machine: loopback and the local
// clusters' bridges.
const dialAllow = "127.0.0.0/8,::1/128,10.213.0.0/16"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "clusterctl-faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := 1
	if err := build(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
	} else {
		code = mototest.Main(m, func(s *mototest.Server, why string) { moto, motoSkip = s, why })
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// build compiles clusterctl into dir once for every test (while HOME still points at the Go
// caches), and decides whether local clusters can run here.
func build(dir string) error {
	binary = filepath.Join(dir, "clusterctl")
	out, err := exec.Command("go", "build", "-o", binary, "github.com/clusterctl/clusterctl/cmd/clusterctl").CombinedOutput()
	if err != nil {
		return fmt.Errorf("build clusterctl: %v\n%s", err, out)
	}
	switch {
	case os.Geteuid() != 0:
		localSkip = "local clusters need root (systemd-nspawn, bridges, overlay mounts); CI runs `make test` as root"
	default:
		for _, tool := range []string{"systemd-nspawn", "debootstrap", "ip"} {
			if _, err := exec.LookPath(tool); err != nil {
				localSkip = tool + " is missing: `make test` installs systemd-container, debootstrap and iproute2"
			}
		}
	}
	return os.Setenv(remote.DialAllowEnv, dialAllow)
}

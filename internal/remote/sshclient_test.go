package remote_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/remote/sshdtest"
	"github.com/clusterctl/clusterctl/internal/remote/sshtest"
)

// TestSystemSSHClientArgs runs the system ssh client with SSHCommandArgs against real sshds,
// directly and through a jump host, and checks it trusts exactly the pinned keys.
func TestSystemSSHClientArgs(t *testing.T) {
	if _, err := os.Stat(sshdtest.SSHPath); err != nil {
		t.Skipf("%s missing (%v); `make test` installs openssh-client", sshdtest.SSHPath, err)
	}
	e := newEnv(t)
	master := e.startSSHD(t)
	node := e.startSSHD(t)
	jump := sshdTarget("master", master)
	viaJump := sshdTarget("node001", node)
	viaJump.Jump = &jump
	tests := []struct {
		name   string
		target remote.Target
		cmd    string
		want   int
	}{
		{name: "direct", target: sshdTarget("master", master), cmd: "test $(id -un) = " + sshdtest.User + " && exit 7", want: 7},
		{name: "via jump", target: viaJump, cmd: "exit 9", want: 9},
		// Without "--", ssh would take -V as its own option, print its version and exit 0;
		// with it, the remote sh gets "-V" and rejects it with status 2.
		{name: "command starting with a dash is not an ssh option", target: viaJump, cmd: "-V", want: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := remote.SSHCommandArgs(tt.target, remote.SSHArgsOpts{KeyFile: e.keyFile,
				KnownHostsFile: e.kh.Path(), Command: tt.cmd, SSHPath: sshdtest.SSHPath})
			// -F /dev/null keeps the machine's ssh_config out of the test.
			cmd := exec.CommandContext(t.Context(), sshdtest.SSHPath, append([]string{"-F", "/dev/null", "-o", "BatchMode=yes"}, args...)...)
			cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK=")
			out, err := cmd.CombinedOutput()
			var exitErr *exec.ExitError
			if !errors.As(err, &exitErr) || exitErr.ExitCode() != tt.want || strings.Contains(string(out), "OpenSSH_") {
				t.Fatalf("ssh %q: %v, want exit %d\n%s", args, err, tt.want, out)
			}
		})
	}
	// A wrong pin makes the system client refuse too: it uses the same file.
	if err := e.kh.Pin([]string{master.Addr}, sshtest.NewSigner(t, sshtest.Ed25519).PublicKey()); err != nil {
		t.Fatal(err)
	}
	args := remote.SSHCommandArgs(sshdTarget("master", master), remote.SSHArgsOpts{KeyFile: e.keyFile,
		KnownHostsFile: e.kh.Path(), Command: "true"})
	out, err := exec.Command(sshdtest.SSHPath, append([]string{"-F", "/dev/null", "-o", "BatchMode=yes"}, args...)...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "REMOTE HOST IDENTIFICATION HAS CHANGED") {
		t.Fatalf("ssh with a wrong pin: %v\n%s", err, out)
	}
}

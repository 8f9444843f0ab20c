package remote_test

import (
	"reflect"
	"testing"

	"github.com/clusterctl/clusterctl/internal/remote"
)

func TestSSHCommandArgs(t *testing.T) {
	master := &remote.Target{Name: "master", Addr: "54.1.2.3", User: "admin"}
	common := []string{"-i", "/k/id", "-o", "IdentitiesOnly=yes", "-o", "UserKnownHostsFile=/kh/c1",
		"-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes"}
	base := remote.SSHArgsOpts{KeyFile: "/k/id", KnownHostsFile: "/kh/c1"}
	tests := []struct {
		name   string
		target remote.Target
		opts   remote.SSHArgsOpts
		want   []string
	}{
		{
			name:   "direct login shell",
			target: *master,
			opts:   base,
			want:   append(append([]string{}, common...), "-p", "22", "admin@54.1.2.3"),
		},
		{
			name:   "port, forwarding, tty and command",
			target: remote.Target{Name: "master", Addr: "54.1.2.3:2222", User: "root"},
			opts: remote.SSHArgsOpts{KeyFile: "/k/id", KnownHostsFile: "/kh/c1", ForwardX11: true,
				ForwardAgent: true, ForceTTY: true, Command: "-weird 'cmd'"},
			want: append(append([]string{}, common...), "-p", "2222", "-X", "-A", "-t", "root@54.1.2.3",
				"--", "-weird 'cmd'"),
		},
		{
			name:   "through jump host",
			target: remote.Target{Name: "node001", Addr: "10.0.0.6", User: "admin", Jump: master},
			opts:   base,
			want: append(append([]string{}, common...), "-p", "22", "-o",
				"ProxyCommand=ssh -i /k/id -o 'IdentitiesOnly=yes' -o 'UserKnownHostsFile=/kh/c1' "+
					"-o 'GlobalKnownHostsFile=/dev/null' -o 'StrictHostKeyChecking=yes' -p 22 -W 10.0.0.6:22 admin@54.1.2.3",
				"admin@10.0.0.6"),
		},
		{
			name:   "jump with odd paths quoted and percent escaped",
			target: remote.Target{Addr: "[fd00::6]:22", User: "admin", Jump: master},
			opts:   remote.SSHArgsOpts{KeyFile: "/my keys/100%", SSHPath: "/usr/bin/ssh"},
			want: []string{"-i", "/my keys/100%", "-o", "IdentitiesOnly=yes", "-p", "22", "-o",
				"ProxyCommand=/usr/bin/ssh -i '/my keys/100%%' -o 'IdentitiesOnly=yes' -p 22 -W '[fd00::6]:22' admin@54.1.2.3",
				"admin@fd00::6"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := remote.SSHCommandArgs(tt.target, tt.opts)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

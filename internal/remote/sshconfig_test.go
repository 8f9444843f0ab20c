package remote

import (
	"strings"
	"testing"
)

// TestSSHConfig renders Host blocks and refuses values from the cloud that could smuggle ssh
// options into the file.
func TestSSHConfig(t *testing.T) {
	master := Target{Name: "master", Addr: "203.0.113.7", User: "admin"}
	hosts := []SSHConfigHost{
		{Host: HostAlias("lab", "master"), Target: master},
		{Host: HostAlias("lab", "node001"), Target: Target{Name: "node001", Addr: "10.0.0.11:2222", User: "admin", Jump: &master}, JumpHost: "lab-master"},
		{Host: HostAlias("lab", "lab-node002"), Target: Target{Name: "lab-node002", Addr: "ip-10-0-0-12.ec2.internal", User: "admin"}},
	}
	text, err := SSHConfig("Cluster lab", hosts, "/home/me/.ssh/my key.rsa", "/home/me/.clusterctl/known_hosts/lab", "/home/me/.clusterctl/ssh")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# Cluster lab\n", "\nHost lab-master\n    HostName 203.0.113.7\n    User admin\n",
		"    IdentityFile \"/home/me/.ssh/my key.rsa\"\n", "    StrictHostKeyChecking yes\n",
		"\nHost lab-node001\n    HostName 10.0.0.11\n    Port 2222\n", "    ProxyJump lab-master\n",
		"\nHost lab-node002\n    HostName ip-10-0-0-12.ec2.internal\n", "    ControlPath /home/me/.clusterctl/ssh/%C\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("config lacks %q:\n%s", want, text)
		}
	}
	for name, h := range map[string]SSHConfigHost{
		"address with an option": {Host: "lab-x", Target: Target{Addr: "10.0.0.1\n    ProxyCommand sh -c id", User: "admin"}},
		"host with a space":      {Host: "lab x", Target: Target{Addr: "10.0.0.1", User: "admin"}},
		"user with a newline":    {Host: "lab-x", Target: Target{Addr: "10.0.0.1", User: "admin\nProxyCommand x"}},
		"jump with a space":      {Host: "lab-x", Target: Target{Addr: "10.0.0.1", User: "admin"}, JumpHost: "a b"},
	} {
		if _, err := SSHConfig("x", []SSHConfigHost{h}, "", "/k", ""); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

package local

import (
	"strings"
	"testing"
)

func TestImageDefinition(t *testing.T) {
	names := ImageNames()
	if len(names) == 0 || names[0] != "debian-12" {
		t.Fatalf("ImageNames() = %v, want debian-12 first", names)
	}
	def, err := lookupImage("debian-12")
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range []string{"gridengine-master", "gridengine-exec", "gridengine-client", "python3-ipyparallel", "xvfb"} {
		if !strings.Contains(strings.Join(def.Packages, " "), pkg) {
			t.Errorf("debian-12 lacks %s", pkg)
		}
	}
	if _, err := lookupImage("ami-12345678"); err == nil || !strings.Contains(err.Error(), "debian-12") {
		t.Errorf("unknown image error %v does not list the known names", err)
	}
}

func TestImageHash(t *testing.T) {
	base, _ := lookupImage("debian-12")
	mutate := []struct {
		name string
		edit func(*ImageDef)
	}{
		{"package added", func(d *ImageDef) { d.Packages = append(d.Packages, "vim") }},
		{"suite", func(d *ImageDef) { d.Suite = "trixie" }},
		{"service enabled", func(d *ImageDef) { d.Enable = append(d.Enable, "cron") }},
		{"login user", func(d *ImageDef) { d.LoginUser = "debian" }},
		{"debconf answer", func(d *ImageDef) { d.Debconf = nil }},
	}
	if first, again := base.Hash(), base.Hash(); first != again {
		t.Fatal("hash is not stable")
	}
	for _, m := range mutate {
		d, _ := lookupImage("debian-12")
		m.edit(&d)
		if d.Hash() == base.Hash() {
			t.Errorf("%s: hash unchanged, the cached image would not be rebuilt", m.name)
		}
	}
}

func TestBuildScripts(t *testing.T) {
	def, _ := lookupImage("debian-12")
	install := installScript(def)
	for _, want := range []string{"set -eu", "debconf-set-selections", "apt-get update", "apt-get install -y --no-install-recommends gridengine-master"} {
		if !strings.Contains(install, want) {
			t.Errorf("install script lacks %q:\n%s", want, install)
		}
	}
	conf := configureScript(def)
	for _, want := range []string{
		"useradd --create-home --shell /bin/bash --groups sudo admin",
		"'admin ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/admin",
		"chmod 0440 /etc/sudoers.d/admin",
		"systemctl enable systemd-networkd ssh",
		"systemctl disable gridengine-master gridengine-exec slurmctld slurmd munge exim4",
		"rm -f /etc/munge/munge.key", // each cluster makes its own
		"rm -f /etc/ssh/ssh_host_*",
		"rm -f /usr/sbin/policy-rc.d",
		": > /etc/machine-id",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("configure script lacks %q:\n%s", want, conf)
		}
	}
}

func TestShellQuote(t *testing.T) {
	cases := map[string]string{
		"plain-word_1.2": "plain-word_1.2",
		"two words":      "'two words'",
		"it's":           `'it'\''s'`,
		"":               "''",
		"$(reboot)":      "'$(reboot)'",
	}
	for in, want := range cases {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

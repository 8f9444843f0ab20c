package setup

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestUserScriptsAreShell(t *testing.T) {
	for name, s := range map[string]string{
		"master keys": masterKeysScript("clusteruser", []string{"ssh-ed25519 AAAA me@laptop"}),
		"copy keys":   copyUserKeysScript("sgeadmin", []string{"node001", "node002"}),
		"user":        userScript("clusteruser", "bash", 1001, 1001, true),
		"new home":    NewHomeScript(`"$u"`, `"$h"`),
	} {
		if out, err := exec.Command("sh", "-n", "-c", s).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s\n%s", name, err, out, s)
		}
	}
}

// TestUserKeysAsUserCannotReachRootFiles plants the links of the attack this guards against
// (authorized_keys to a root file, id_ed25519.pub to a secret) in a real home and runs the
// key script: as root it writes into the root file and copies the secret, as the user
// (RunAsUser, how setup runs it) it changes neither.
func TestUserKeysAsUserCannotReachRootFiles(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("runuser needs root; CI runs `make test` as root")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	base, err := os.MkdirTemp("", "userkeys")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	plant := func() (home, cron, secret string) {
		dir, err := os.MkdirTemp(base, "case")
		if err != nil {
			t.Fatal(err)
		}
		_ = os.Chmod(dir, 0o755)
		home, cron, secret = filepath.Join(dir, "home"), filepath.Join(dir, "cron"), filepath.Join(dir, "shadow")
		for _, f := range []struct {
			path, data string
			mode       os.FileMode
		}{{cron, "# root's cron file\n", 0o644}, {secret, "root:$6$secret:19000:0:99999:7:::\n", 0o600}} {
			if err := os.WriteFile(f.path, []byte(f.data), f.mode); err != nil {
				t.Fatal(err)
			}
		}
		ssh := filepath.Join(home, ".ssh")
		if err := os.MkdirAll(ssh, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(cron, filepath.Join(ssh, "authorized_keys")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(secret, filepath.Join(ssh, "id_ed25519.pub")); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ssh, "id_ed25519"), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{home, ssh, filepath.Join(ssh, "authorized_keys"), filepath.Join(ssh, "id_ed25519.pub"), filepath.Join(ssh, "id_ed25519")} {
			if err := os.Lchown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
		return home, cron, secret
	}
	read := func(p string) string {
		data, _ := os.ReadFile(p)
		return string(data)
	}

	// The attack, as root ran it before: the secret ends up in the root-owned file.
	home, cron, _ := plant()
	_ = exec.Command("sh", "-c", UserKeysScript, "sh", home, "c").Run()
	if !strings.Contains(read(cron), "secret") {
		t.Fatalf("the planted links did not work as root; the test proves nothing:\n%s", read(cron))
	}

	// As the user: the script fails, and nothing outside the home changed.
	home, cron, secret := plant()
	out, err := exec.Command("sh", "-c", RunAsUser("nobody", UserKeysScript, home, "c", "'ssh-ed25519 AAAA me'")).CombinedOutput()
	if err == nil {
		t.Errorf("the key script went through planted links without an error:\n%s", out)
	}
	if got := read(cron); got != "# root's cron file\n" {
		t.Errorf("root's file changed:\n%s", got)
	}
	if got := read(secret); got != "root:$6$secret:19000:0:99999:7:::\n" {
		t.Errorf("the secret changed: %q", got)
	}
}

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// localAttackConfig is a two-node cluster with a batch user and the virtual display: the
// parts of setup that work in users' homes and in /tmp as root.
const localAttackConfig = `[cluster attack]
PROVIDER = local
CLUSTER_SIZE = 2
NODE_IMAGE_ID = debian-12
NODE_INSTANCE_TYPE = small
PLUGINS = users, xvfb

[plugin users]
SETUP_CLASS = users
NUM_USERS = 1
DOWNLOAD_KEYS = true

[plugin xvfb]
SETUP_CLASS = xvfb
`

// rootFilesSnapshot prints owner, mode and checksum of the files a planted link would aim
// root at: the account databases, cron's directory and files, root's keys, /etc itself.
const rootFilesSnapshot = `sudo sh -c 'cd / && for f in /etc /etc/passwd /etc/shadow /etc/cron.d /etc/cron.d/* /root/.ssh /root/.ssh/authorized_keys; do
  [ -e "$f" ] || continue
  if [ -f "$f" ]; then s=$(sha256sum < "$f" | cut -c1-16); else s=dir; fi
  echo "$f $(stat -c "%U:%G %a" "$f") $s"
done'`

// TestLocalRootNeverFollowsUserLinks: a batch user replaces files in its home with links to
// /etc/cron.d and /etc/shadow (what gave root away: the next addnode created a cron file and
// copied shadow's root line into the user's authorized_keys) and points /tmp/.X11-unix at
// /etc. Then addnode, runplugin users and a restart of the display run as root, and nothing
// root owns outside the homes changes on any node.
func TestLocalRootNeverFollowsUserLinks(t *testing.T) {
	e := newLocalEnv(t, localAttackConfig)
	const tag = "attack"
	e.terminateAtEnd(tag)
	e.must("start", "-c", "attack", tag)

	// The display asks for its cookie: the batch user gets in, a system account does not.
	script := filepath.Join(e.home, "xprobe.py")
	if err := os.WriteFile(script, []byte(xauthProbe), 0o644); err != nil {
		t.Fatal(err)
	}
	e.must("put", tag, script, "/tmp/xprobe.py")
	probe := "python3 /tmp/xprobe.py"
	if got := e.on(tag, "master", "sudo -iu user001 "+probe); got != "connected" {
		t.Errorf("user001 cannot use the display: %q", got)
	}
	if got := e.on(tag, "master", "sudo -u nobody env XAUTHORITY=/etc/clusterctl/xvfb/Xauthority "+probe); got != "refused" {
		t.Errorf("nobody, outside the display group, got: %q", got)
	}

	before := map[string]string{}
	for _, n := range []string{"master", "node001"} {
		before[n] = e.on(tag, n, rootFilesSnapshot)
	}
	// The attacks, as user001 (root only empties /tmp/.X11-unix first, as a cleaner would).
	e.on(tag, "master", `sudo -u user001 sh -c 'cd ~/.ssh && rm -f authorized_keys id_ed25519.pub && ln -s /etc/cron.d/x authorized_keys && ln -s /etc/shadow id_ed25519.pub'`)
	e.on(tag, "master", `sudo systemctl stop clusterctl-xvfb && sudo rm -rf /tmp/.X11-unix && sudo -u user001 ln -s /etc /tmp/.X11-unix`)

	e.must("addnode", tag)
	// The plugin goes on without the key of the user who broke their own ~/.ssh.
	e.must("runplugin", "users", tag)
	e.cli("sshnode", tag, "master", "sudo systemctl restart clusterctl-xvfb")

	for _, n := range []string{"master", "node001"} {
		if after := e.on(tag, n, rootFilesSnapshot); after != before[n] {
			t.Errorf("%s: root-owned files changed:\n%s", n, lineDiff(before[n], after))
		}
	}
	if out := e.on(tag, "node002", rootFilesSnapshot); !strings.Contains(out, "/etc root:root 755 dir") || strings.Contains(out, "/etc/cron.d/x ") {
		t.Errorf("node002:\n%s", out)
	}
	// The cluster user, whose keys every addnode refreshes, tries the same: its own setup
	// breaks (the key step runs as the cluster user and is refused), root's files do not.
	e.on(tag, "master", `sudo -u clusteruser sh -c 'cd ~/.ssh && rm -f authorized_keys id_ed25519.pub && ln -s /etc/cron.d/y authorized_keys && ln -s /etc/shadow id_ed25519.pub'`)
	if r := e.cli("addnode", tag); r.code == 0 || !strings.Contains(r.errOut, "Permission denied") {
		t.Errorf("addnode through the cluster user's links: exit %d\n%s", r.code, r.errOut)
	}
	for _, n := range []string{"master", "node001"} {
		if after := e.on(tag, n, rootFilesSnapshot); after != before[n] {
			t.Errorf("%s: root-owned files changed by the cluster user's links:\n%s", n, lineDiff(before[n], after))
		}
	}
	if got := e.on(tag, "master", "sudo ls /etc/cron.d/x /etc/cron.d/y 2>&1 || true"); strings.Count(got, "No such file") != 2 {
		t.Errorf("a planted cron file exists: %s", got)
	}
	keys := filepath.Join(e.home, ".clusterctl", "user_keys", "attack-local.tar.gz")
	if out, err := exec.Command("tar", "-xzOf", keys).CombinedOutput(); err != nil || strings.Contains(string(out), "root:") {
		t.Errorf("the downloaded keys (%v) hold /etc/shadow:\n%s", err, out)
	}
}

// xauthProbe connects to display :1 with the cookie in $XAUTHORITY, if it can read one, and
// prints whether the X server accepted the connection (X11 connection setup, first reply
// byte 1) or refused it.
const xauthProbe = `
import os, socket, struct
def cookie():
    try:
        d = open(os.environ.get("XAUTHORITY", ""), "rb").read()
    except Exception:
        return b""
    i = 0
    while i < len(d):
        i += 2
        f = []
        for _ in range(4):
            n = struct.unpack(">H", d[i:i+2])[0]
            f.append(d[i+2:i+2+n])
            i += 2 + n
        if f[2] == b"MIT-MAGIC-COOKIE-1":
            return f[3]
    return b""
c = cookie()
name = b"MIT-MAGIC-COOKIE-1" if c else b""
pad = lambda b: b + b"\0" * ((4 - len(b) % 4) % 4)
s = socket.socket(socket.AF_UNIX)
s.connect("/tmp/.X11-unix/X1")
s.sendall(struct.pack("<BxHHHHxx", 0x6c, 11, 0, len(name), len(c)) + pad(name) + pad(c))
print("connected" if s.recv(1) == b"\x01" else "refused")
`

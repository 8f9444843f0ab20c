package plugins

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/setup"
)

// The optional Jupyter server of the ipcluster plugin. Debian packages the classic notebook
// server (jupyter-notebook, notebook 6), which the plugin installs with apt on the master when
// it is missing; where apt cannot reach a mirror (the local containers) the notebook is left
// out with a warning and the parallel cluster runs regardless.
//
// The server listens on the master's loopback interface only, on notebookPort, without TLS:
// users reach it through an SSH tunnel (ssh -L 8888:localhost:8888 USER@MASTER), which is
// encrypted and needs no certificate or open firewall port. It asks for the password in
// notebook_passwd; its salted SHA-256 hash, never the password, goes to the master, over SFTP
// in a file only the cluster user can read. Without notebook_passwd a random password is made
// the first time and saved on this machine next to the connection file.
const (
	notebookPort   = 8888
	notebookConfig = "/etc/clusterctl/ipcluster/jupyter_notebook_config.json"
)

// notebookHash is notebook 6's "algorithm:salt:hexdigest" password form (notebook.auth's
// passwd_check accepts any hashlib algorithm). The salt comes from the cluster and user, so the
// same password gives the same file and a rerun changes nothing.
func notebookHash(password, tag, user string) string {
	s := sha256.Sum256([]byte("clusterctl notebook salt\x00" + tag + "\x00" + user))
	salt := hex.EncodeToString(s[:6])
	h := sha256.Sum256([]byte(password + salt))
	return "sha256:" + salt + ":" + hex.EncodeToString(h[:])
}

// notebookConfigJSON is the server's configuration file.
func notebookConfigJSON(hash, dir string) []byte {
	cfg := map[string]any{"NotebookApp": map[string]any{
		"ip": "127.0.0.1", "port": notebookPort, "port_retries": 0, "open_browser": false,
		"password": hash, "notebook_dir": dir,
	}}
	data, _ := json.MarshalIndent(cfg, "", "  ") // maps of strings, numbers and bools marshal
	return append(data, '\n')
}

// notebookUnit runs the server as the cluster user.
func notebookUnit(user string) string {
	return fmt.Sprintf(`# Written by clusterctl's ipcluster plugin.
[Unit]
Description=Jupyter notebook server (clusterctl ipcluster)
After=network-online.target %s

[Service]
User=%s
WorkingDirectory=~
ExecStart=/usr/bin/python3 -m notebook --config=%s
Restart=on-failure
RestartSec=5

[Install]
WantedBy=multi-user.target
`, controllerUnitName, user, notebookConfig)
}

// notebookDir resolves notebook_directory: relative paths are under the user's home, which is
// also the default.
func notebookDir(dir, user string) string {
	home := "/home/" + user
	if dir == "" {
		return home
	}
	if path.IsAbs(dir) {
		return path.Clean(dir)
	}
	return path.Join(home, dir)
}

// randomPassword makes a 16-character password for the notebook.
func randomPassword() string {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails on supported platforms
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// startNotebook installs, configures and starts the server on the master.
func (p *ipCluster) startNotebook(ctx context.Context, c *setup.Cluster, m *setup.Node) error {
	if _, err := c.Sudo(ctx, m, aptInstallScript([]string{"jupyter-notebook"})); err != nil {
		warnf(c, "ipcluster: no notebook server: the jupyter-notebook package could not be installed on %s (%v)", m.Alias, err)
		return nil
	}
	dir := notebookDir(p.notebookDir, c.User)
	u := remote.Quote(c.User)
	// The directory is made by the cluster user, not root: it is usually in the user's home,
	// where root would follow links the user planted.
	res, err := c.Sudo(ctx, m, fmt.Sprintf(`set -e
[ -d %[1]s ] || runuser -u %[2]s -- mkdir -p -m 750 -- %[1]s || { echo "notebook_directory %[1]s cannot be made by %[2]s: create it, owned by %[2]s" >&2; exit 1; }
install -d -m 755 %[3]s
if [ -f %[4]s ]; then sha256sum < %[4]s; fi`, remote.Quote(dir), u, path.Dir(notebookConfig), notebookConfig))
	if err != nil {
		return fmt.Errorf("prepare the notebook server: %w", err)
	}
	old := strings.Fields(res.Stdout)
	password, generated := p.notebookPasswd, false
	if password == "" && len(old) == 0 {
		password, generated = randomPassword(), true
	}
	configChanged := false
	if password != "" {
		cfg := notebookConfigJSON(notebookHash(password, c.Tag, c.User), dir)
		sum := sha256.Sum256(cfg)
		if len(old) == 0 || old[0] != hex.EncodeToString(sum[:]) {
			client, err := c.Client(ctx, m)
			if err != nil {
				return err
			}
			if err := client.Upload(ctx, bytes.NewReader(cfg), notebookConfig, remote.FileOpts{Mode: 0o600, Owner: c.User, Sudo: true}); err != nil {
				return fmt.Errorf("notebook configuration: %w", err)
			}
			configChanged = true
		}
	}
	if generated {
		file := localFile(c, "", "ipcluster", ".notebook-password")
		if err := saveLocal(file, []byte(password+"\n")); err != nil {
			return err
		}
		infof(c, "ipcluster: the notebook password is in %s", file)
	}
	restart := `[ -n "$changed" ]`
	if configChanged {
		restart = "true"
	}
	script := scriptHeader + requireSystemd + "changed=\n" + unitScript(notebookUnitName, notebookUnit(c.User), "changed") +
		ensureServiceScript(notebookUnitName, restart)
	if _, err := c.Sudo(ctx, m, script); err != nil {
		return fmt.Errorf("start the notebook server: %w", err)
	}
	infof(c, "ipcluster: Jupyter notebook on %s at http://localhost:%d; reach it with ssh -L %d:localhost:%d %s@%s",
		m.Alias, notebookPort, notebookPort, notebookPort, c.User, m.Addr())
	return nil
}

package plugins

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"golang.org/x/crypto/argon2"

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
// notebook_passwd; its argon2 hash (notebookHash), never the password, goes to the master,
// over SFTP in a file only the cluster user can read. Without notebook_passwd a random password is made
// the first time and saved on this machine next to the connection file.
const (
	notebookPort   = 8888
	notebookConfig = "/etc/clusterctl/ipcluster/jupyter_notebook_config.json"
)

// The password hash is notebook 6's "argon2:" form (notebook.auth.passwd_check hands it to
// argon2-cffi, which Debian's notebook depends on): argon2id with a random salt and the cost
// notebook's own passwd() uses, so a leaked configuration file costs an attacker as much per
// guess as the server spends, and two clusters with one password share no precomputation.
const (
	argonTime    = 10
	argonMemory  = 10240 // KiB
	argonThreads = 8
	argonKeyLen  = 32
)

// notebookHash hashes password with a new random salt.
func notebookHash(password string) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt) // never fails on supported platforms
	return argonHash(password, salt, argonTime, argonMemory, argonThreads, argonKeyLen)
}

func argonHash(password string, salt []byte, t, m uint32, p uint8, keyLen uint32) string {
	key := argon2.IDKey([]byte(password), salt, t, m, p, keyLen)
	b64 := base64.RawStdEncoding.EncodeToString
	return fmt.Sprintf("argon2:$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, m, t, p, b64(salt), b64(key))
}

// notebookHashMatches reports whether hash (as notebookHash writes it) is password's, so a
// rerun with the same password keeps the configuration, and the running server, as they are.
func notebookHashMatches(hash, password string) bool {
	rest, ok := strings.CutPrefix(hash, "argon2:$argon2id$")
	if !ok {
		return false
	}
	f := strings.Split(rest, "$")
	if len(f) != 4 || f[0] != fmt.Sprintf("v=%d", argon2.Version) {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(f[1], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m > 1<<20 || t > 100 || p == 0 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(f[2])
	key, err2 := base64.RawStdEncoding.DecodeString(f[3])
	if err1 != nil || err2 != nil || len(key) == 0 || len(key) > 64 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

// notebookConfigHash returns the password hash of a configuration notebookConfigJSON wrote,
// or "" when it differs in anything but the hash (then it is written anew).
func notebookConfigHash(data []byte, dir string) string {
	var cfg struct {
		NotebookApp map[string]any
	}
	if json.Unmarshal(data, &cfg) != nil {
		return ""
	}
	hash, _ := cfg.NotebookApp["password"].(string)
	if !bytes.Equal(notebookConfigJSON(hash, dir), data) {
		return ""
	}
	return hash
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
if [ -f %[4]s ]; then echo present; fi`, remote.Quote(dir), u, path.Dir(notebookConfig), notebookConfig))
	if err != nil {
		return fmt.Errorf("prepare the notebook server: %w", err)
	}
	present := strings.TrimSpace(res.Stdout) == "present"
	password, generated := p.notebookPasswd, false
	if password == "" && !present {
		password, generated = randomPassword(), true
	}
	configChanged := false
	if password != "" {
		current := ""
		if present {
			// Read over SFTP, not printed: the hash stays out of logs.
			old, err := fetchAsRoot(ctx, c, m, "the notebook configuration", "cat -- "+notebookConfig+` > "$t"`)
			if err != nil {
				return err
			}
			current = notebookConfigHash(old, dir)
		}
		if current == "" || !notebookHashMatches(current, password) {
			cfg := notebookConfigJSON(notebookHash(password), dir)
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
	infof(c, "ipcluster: Jupyter notebook on %s at http://localhost:%d; reach it with ssh -L %d:localhost:%d %s@%s (a host `clusterctl ssh-config %s` names)",
		m.Alias, notebookPort, notebookPort, notebookPort, c.User, remote.HostAlias(c.Tag, m.Alias), c.Tag)
	return nil
}

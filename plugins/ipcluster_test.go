package plugins

import (
	"encoding/json"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

func TestPackerArgs(t *testing.T) {
	cases := []struct {
		packer string
		want   []string
		ok     bool
	}{
		{"json", []string{"--Session.packer=json"}, true},
		{"", []string{"--Session.packer=json"}, true},
		{"pickle", []string{"--Session.packer=pickle"}, true},
		{"MsgPack", []string{"--Session.packer=msgpack.packb", "--Session.unpacker=msgpack.unpackb"}, true},
		{"yaml", nil, false},
	}
	for _, tc := range cases {
		got, err := packerArgs(tc.packer)
		if (err == nil) != tc.ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("packerArgs(%q) = %v, %v; want %v ok=%v", tc.packer, got, err, tc.want, tc.ok)
		}
	}
}

func TestLogLevel(t *testing.T) {
	cases := map[string]string{"": "INFO", "info": "INFO", "Debug": "DEBUG", "WARNING": "WARN", "warn": "WARN",
		"critical": "CRITICAL", "20": "20", "0": "0", "verbose": "", "15": "", "60": ""}
	for in, want := range cases {
		got, err := logLevel(in)
		if got != want || (err == nil) != (want != "") {
			t.Errorf("logLevel(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestEngineCount(t *testing.T) {
	cases := []struct {
		cpus   int
		master bool
		want   int
	}{{4, false, 4}, {4, true, 3}, {1, true, 1}, {2, true, 1}, {1, false, 1}}
	for _, tc := range cases {
		if got := engineCount(tc.cpus, tc.master); got != tc.want {
			t.Errorf("engineCount(%d, %v) = %d, want %d", tc.cpus, tc.master, got, tc.want)
		}
	}
}

func TestControllerUnit(t *testing.T) {
	got, err := controllerUnit(ipSettings{User: "sgeadmin", MasterIP: "10.0.0.10", Packer: "msgpack", LogLevel: "DEBUG"})
	if err != nil {
		t.Fatal(err)
	}
	want := `# Written by clusterctl's ipcluster plugin.
[Unit]
Description=IPython parallel controller (clusterctl ipcluster)
After=network-online.target
Wants=network-online.target

[Service]
User=sgeadmin
WorkingDirectory=~
ExecStart=/usr/bin/python3 -m ipyparallel.controller --ip=10.0.0.10 --location=10.0.0.10 --log-level=DEBUG --Session.packer=msgpack.packb --Session.unpacker=msgpack.unpackb
Restart=on-failure
RestartSec=5

[Install]
WantedBy=multi-user.target
`
	if got != want {
		t.Errorf("controller unit:\n%s\nwant\n%s", got, want)
	}
	if _, err := controllerUnit(ipSettings{Packer: "xml"}); err == nil {
		t.Error("an unknown packer was rendered")
	}
}

func TestEngineUnit(t *testing.T) {
	u := engineUnit(ipSettings{User: "sgeadmin", LogLevel: "INFO"})
	wantLines(t, "engine unit", u,
		"Description=IPython parallel engine %i (clusterctl ipcluster)",
		"User=sgeadmin",
		"ExecStart=/usr/bin/python3 -m ipyparallel.engine --log-level=INFO --IPEngine.wait_for_url_file=60",
		// An engine that loses its controller exits (missed heartbeats); systemd brings it back.
		"Restart=always",
		"WantedBy=multi-user.target")
}

func TestIPClusterScripts(t *testing.T) {
	s := ipSettings{User: "sgeadmin", MasterIP: "10.0.0.10", Packer: "json", LogLevel: "INFO"}
	ctl, err := controllerScript(s)
	if err != nil {
		t.Fatal(err)
	}
	eng, norestart := enginesScript(s, 3, true), enginesScript(s, 2, false)
	for name, script := range map[string]string{"controller": ctl, "engines": eng, "engines, no restart": norestart,
		"restart engines": restartEnginesScript, "controller running": controllerRunningScript} {
		checkSyntax(t, name, script)
	}
	// The controller restarts only for a changed unit, starts only when stopped, and only a
	// (re)start drops the old connection files and tells the caller to restart engines.
	wantLines(t, "controller", ctl,
		`c="$(getent passwd sgeadmin | cut -d: -f6)/.ipython/profile_default/security/ipcontroller-client.json"`,
		`if [ -n "$changed" ]; then systemctl stop clusterctl-ipcontroller.service; started=1`,
		`elif ! systemctl is-active --quiet clusterctl-ipcontroller.service; then started=1`,
		`if [ -n "$started" ]; then rm -f "$c" "$e"; systemctl start clusterctl-ipcontroller.service; fi`,
		`[ -z "$started" ] || echo controller-started`)
	wantLines(t, "engines", eng, "n=3", "restart=1",
		`  if [ -n "$echanged" ] || [ "$restart" = 1 ]; then systemctl restart "$u"`,
		`  elif ! systemctl is-active --quiet "$u"; then systemctl start "$u"`,
		`  if [ "$k" -gt "$n" ]; then systemctl disable --now --quiet "$u"; fi`)
	wantLines(t, "engines, no restart", norestart, "n=2", "restart=0")
	if !strings.Contains(eng, "/etc/systemd/system/clusterctl-ipengine@.service") {
		t.Errorf("engines script does not install the template unit:\n%s", eng)
	}
}

// TestEngineTrim runs the loop that stops engines above the count against fake enablement
// links, with systemctl recorded instead of run.
func TestEngineTrim(t *testing.T) {
	dir := t.TempDir()
	script := enginesScript(ipSettings{User: "u", LogLevel: "INFO"}, 2, false)
	loop := script[strings.Index(script, "for l in"):]
	loop = strings.ReplaceAll(loop, "/etc/systemd/system", dir)
	loop = strings.ReplaceAll(loop, "systemctl", "echo")
	setup := "mkdir -p multi-user.target.wants && cd multi-user.target.wants && " +
		"for i in 1 2 3 10 x; do ln -s ../t clusterctl-ipengine@$i.service; done && cd .. && n=2\n"
	out := runSh(t, dir, setup+loop)
	want := "disable --now --quiet clusterctl-ipengine@10.service\ndisable --now --quiet clusterctl-ipengine@3.service\n"
	if out != want {
		t.Errorf("stopped:\n%s\nwant\n%s", out, want)
	}
}

func TestNotebook(t *testing.T) {
	// The hash is argon2id with a fresh salt each time; notebook 6 checks it with
	// argon2-cffi (passwd_check), which Debian's notebook depends on: ask it.
	want := notebookHash("s3cret")
	if again := notebookHash("s3cret"); again == want || !strings.HasPrefix(want, "argon2:$argon2id$v=19$m=10240,t=10,p=8$") {
		t.Errorf("hashes %s, %s: want argon2id, a new salt each time", want, again)
	}
	if !notebookHashMatches(want, "s3cret") || notebookHashMatches(want, "s3cret!") || notebookHashMatches("sha256:ab:cd", "s3cret") {
		t.Error("notebookHashMatches")
	}
	check := `import argon2, sys
ph = argon2.PasswordHasher()
h = sys.argv[1][len("argon2:"):]
print(ph.verify(h, sys.argv[2]))
try:
    ph.verify(h, "wrong")
except argon2.exceptions.VerificationError:
    print("refused")`
	out, err := exec.Command("/usr/bin/python3", "-c", check, want, "s3cret").CombinedOutput()
	if err != nil || string(out) != "True\nrefused\n" {
		t.Errorf("argon2-cffi (make test installs python3-argon2) on the hash: %v\n%s", err, out)
	}
	if got := notebookConfigHash(notebookConfigJSON(want, "/home/u/nb"), "/home/u/nb"); got != want {
		t.Errorf("hash read back from the config: %q", got)
	}
	if got := notebookConfigHash(notebookConfigJSON(want, "/home/u/nb"), "/other"); got != "" {
		t.Errorf("a config for another directory must be rewritten, got %q", got)
	}
	var cfg struct {
		NotebookApp struct {
			IP          string `json:"ip"`
			Port        int    `json:"port"`
			Password    string `json:"password"`
			NotebookDir string `json:"notebook_dir"`
			OpenBrowser bool   `json:"open_browser"`
		}
	}
	if err := json.Unmarshal(notebookConfigJSON(want, "/home/u/nb"), &cfg); err != nil {
		t.Fatal(err)
	}
	nb := cfg.NotebookApp
	if nb.IP != "127.0.0.1" || nb.Port != 8888 || nb.Password != want || nb.NotebookDir != "/home/u/nb" || nb.OpenBrowser {
		t.Errorf("config %+v", nb)
	}
	dirs := map[string]string{"": "/home/u", "nb": "/home/u/nb", "/data/nb/": "/data/nb"}
	for in, want := range dirs {
		if got := notebookDir(in, "u"); got != want {
			t.Errorf("notebookDir(%q) = %q, want %q", in, got, want)
		}
	}
	wantLines(t, "notebook unit", notebookUnit("u"), "User=u",
		"ExecStart=/usr/bin/python3 -m notebook --config="+notebookConfig)
	if p := randomPassword(); len(p) != 16 || p == randomPassword() {
		t.Errorf("random password %q", p)
	}
}

func TestNewIPCluster(t *testing.T) {
	p := newIPCluster(Params{"packer": "pickle", "log_level": "warning", "enable_notebook": true})
	if p.err != nil || p.packer != "pickle" || p.logLevel != "WARN" || !p.notebook {
		t.Errorf("got %+v", p)
	}
	if got := p.packages(); !reflect.DeepEqual(got, []string{"python3-ipyparallel"}) {
		t.Errorf("packages %v", got)
	}
	m := newIPCluster(Params{"packer": "msgpack"})
	if got := m.packages(); !reflect.DeepEqual(got, []string{"python3-ipyparallel", "python3-msgpack"}) {
		t.Errorf("msgpack packages %v", got)
	}
	for _, bad := range []Params{{"packer": "xml"}, {"log_level": "loud"}} {
		if p := newIPCluster(bad); p.err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

package plugins

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/clusterctl/clusterctl/internal/remote"
)

// The ipcluster plugins' systemd units: the controller on the master, engine instances
// (clusterctl-ipengine@1 ... @N) on every node. Units make stopping reliable (systemd tracks
// every process), restart engines that lose their controller (ipengine exits after missed
// heartbeats) and keep the processes running as the cluster user after reboots.
const (
	controllerUnitName = "clusterctl-ipcontroller.service"
	engineUnitName     = "clusterctl-ipengine@.service"
	enginePattern      = "clusterctl-ipengine@*.service"
	notebookUnitName   = "clusterctl-jupyter.service"
)

// connectionDir is where the controller writes its connection files, relative to the cluster
// user's home: the default profile's security directory, on the shared /home, so engines find
// ipcontroller-engine.json on every node and ipyparallel.Client() on the master just works.
const connectionDir = ".ipython/profile_default/security"

// ipSettings are what the controller and engines are started with.
type ipSettings struct {
	User     string // the cluster user, who runs everything
	MasterIP string // the master's cluster address, where the controller listens
	Packer   string // json, pickle or msgpack
	LogLevel string // a level traitlets accepts (see logLevel)
}

// packerArgs maps the packer parameter to jupyter_client's Session options, which ipyparallel
// uses for its messages: json and pickle are built in; msgpack is given as msgpack's own
// functions (python3-msgpack must then be installed wherever a client runs, this machine
// included). The controller writes the choice into the connection files, from which engines
// and clients take it. Whatever the packer, ipyparallel still pickles the data sent to engines;
// the packer only decides how message headers and metadata travel.
func packerArgs(packer string) ([]string, error) {
	switch strings.ToLower(packer) {
	case "", "json":
		return []string{"--Session.packer=json"}, nil
	case "pickle":
		return []string{"--Session.packer=pickle"}, nil
	case "msgpack":
		return []string{"--Session.packer=msgpack.packb", "--Session.unpacker=msgpack.unpackb"}, nil
	}
	return nil, fmt.Errorf("packer must be json, pickle or msgpack, got %q", packer)
}

// logLevel normalizes log_level to a value traitlets' Application.log_level accepts: DEBUG,
// INFO, WARN, ERROR, CRITICAL (WARNING is taken for WARN) or 0, 10, ... 50.
func logLevel(s string) (string, error) {
	l := strings.ToUpper(strings.TrimSpace(s))
	switch l {
	case "":
		return "INFO", nil
	case "DEBUG", "INFO", "WARN", "ERROR", "CRITICAL":
		return l, nil
	case "WARNING":
		return "WARN", nil
	}
	if n, err := strconv.Atoi(l); err == nil && n >= 0 && n <= 50 && n%10 == 0 {
		return l, nil
	}
	return "", fmt.Errorf("log_level must be DEBUG, INFO, WARN, ERROR or CRITICAL, got %q", s)
}

// controllerUnit runs ipcontroller on the master, listening on the master's cluster address
// only: engines reach it there, and clients elsewhere tunnel through SSH to the master.
func controllerUnit(s ipSettings) (string, error) {
	packer, err := packerArgs(s.Packer)
	if err != nil {
		return "", err
	}
	args := append([]string{"/usr/bin/python3", "-m", "ipyparallel.controller",
		"--ip=" + s.MasterIP, "--location=" + s.MasterIP, "--log-level=" + s.LogLevel}, packer...)
	return fmt.Sprintf(`# Written by clusterctl's ipcluster plugin.
[Unit]
Description=IPython parallel controller (clusterctl ipcluster)
After=network-online.target
Wants=network-online.target

[Service]
User=%s
WorkingDirectory=~
ExecStart=%s
Restart=on-failure
RestartSec=5

[Install]
WantedBy=multi-user.target
`, s.User, strings.Join(args, " ")), nil
}

// engineUnit is the template of the engine instances. An engine waits up to a minute for the
// connection file and, like any engine that loses its controller, is restarted by systemd.
func engineUnit(s ipSettings) string {
	return fmt.Sprintf(`# Written by clusterctl's ipcluster plugin.
[Unit]
Description=IPython parallel engine %%i (clusterctl ipcluster)
After=network-online.target remote-fs.target
Wants=network-online.target

[Service]
User=%s
WorkingDirectory=~
ExecStart=/usr/bin/python3 -m ipyparallel.engine --log-level=%s --IPEngine.wait_for_url_file=60
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
`, s.User, s.LogLevel)
}

// connectionFile is a shell expression for one of the controller's connection files.
func connectionFile(user, kind string) string {
	return fmt.Sprintf(`"$(getent passwd %s | cut -d: -f6)/%s/ipcontroller-%s.json"`, remote.Quote(user), connectionDir, kind)
}

// controllerScript installs and starts the controller, restarting it only when its unit
// changed (new settings) and starting it only when it is not running. A (re)start removes the
// old connection files first and waits for the new ones; the script then prints
// "controller-started", which tells the caller to restart the engines (the new controller
// has new ports and a new key).
func controllerScript(s ipSettings) (string, error) {
	unit, err := controllerUnit(s)
	if err != nil {
		return "", err
	}
	u := controllerUnitName
	return scriptHeader + requireSystemd + "changed=\n" + unitScript(u, unit, "changed") + fmt.Sprintf(`c=%[2]s
e=%[3]s
started=
systemctl enable --quiet %[1]s
if [ -n "$changed" ]; then systemctl stop %[1]s; started=1
elif ! systemctl is-active --quiet %[1]s; then started=1
fi
if [ -n "$started" ]; then rm -f "$c" "$e"; systemctl start %[1]s; fi
i=0
while [ ! -s "$c" ] || [ ! -s "$e" ]; do
  i=$((i + 1))
  if [ "$i" -gt 60 ] || ! systemctl is-active --quiet %[1]s; then
    echo "the IPython controller did not write its connection files; its log:" >&2
    journalctl -u %[1]s -n 20 --no-pager >&2 || true
    exit 1
  fi
  sleep 1
done
[ -z "$started" ] || echo controller-started
`, u, connectionFile(s.User, "client"), connectionFile(s.User, "engine")), nil
}

// enginesScript runs count engines on a node: their instances are enabled and started (all
// restarted when restart is set or the unit changed), and instances numbered above count,
// left from a bigger machine, are stopped and disabled.
func enginesScript(s ipSettings, count int, restart bool) string {
	r := "0"
	if restart {
		r = "1"
	}
	return scriptHeader + requireSystemd + "echanged=\n" + unitScript(engineUnitName, engineUnit(s), "echanged") + fmt.Sprintf(`n=%d
restart=%s
i=1
while [ "$i" -le "$n" ]; do
  u="clusterctl-ipengine@$i.service"
  systemctl enable --quiet "$u"
  if [ -n "$echanged" ] || [ "$restart" = 1 ]; then systemctl restart "$u"
  elif ! systemctl is-active --quiet "$u"; then systemctl start "$u"
  fi
  i=$((i + 1))
done
for l in /etc/systemd/system/*.wants/%s; do
  [ -L "$l" ] || continue
  u=${l##*/}; k=${u#clusterctl-ipengine@}; k=${k%%.service}
  case $k in '' | *[!0-9]*) continue ;; esac
  if [ "$k" -gt "$n" ]; then systemctl disable --now --quiet "$u"; fi
done
`, count, r, enginePattern)
}

// restartEnginesScript restarts the engines set up on a node and prints how many it restarted.
const restartEnginesScript = `set -e
k=0
for l in /etc/systemd/system/*.wants/` + enginePattern + `; do
  [ -L "$l" ] || continue
  systemctl restart "${l##*/}"
  k=$((k + 1))
done
echo "$k"
`

// controllerRunningScript fails, saying so, when the controller is not running on the master.
const controllerRunningScript = `systemctl is-active --quiet ` + controllerUnitName + ` || { echo "the IPython controller is not running on $(hostname): run the ipcluster plugin" >&2; exit 1; }`

// engineCount is how many engines a node runs: one per CPU, one fewer on the master, which
// also runs the controller, but at least one.
func engineCount(cpus int, master bool) int {
	if master {
		cpus--
	}
	return max(cpus, 1)
}

package setup

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// spotWatchScript is the watcher spot nodes run (clusterctl-spot-watch): it polls the instance
// metadata for EC2's two-minute interruption notice (IMDSv2) and drains the node in the
// scheduler when one appears.
//
//go:embed spotwatch.py
var spotWatchScript string

// SpotWatchInterval is how often the watcher asks for a notice, in seconds: EC2 gives two
// minutes, and a job starting in the last seconds is lost anyway.
const SpotWatchInterval = 5

// Where the watcher lives on a node.
const (
	spotWatchBin    = "/usr/local/sbin/clusterctl-spot-watch"
	spotWatchConf   = "/etc/clusterctl/spot-watch.json"
	spotWatchUnit   = "/etc/systemd/system/clusterctl-spot-watch.service"
	spotWatchUnitNm = "clusterctl-spot-watch"
)

// spotWatchConfig is the watcher's settings file.
type spotWatchConfig struct {
	Metadata string  `json:"metadata"`
	Interval float64 `json:"interval"`
	Drain    string  `json:"drain"`
}

// installSpotWatch installs and starts the watcher on the spot nodes among nodes, when the
// cluster's machines have instance metadata to ask (c.SpotMetadata; EC2) and a scheduler to
// drain them in. Installing it again changes nothing unless its script or settings changed.
func installSpotWatch(ctx context.Context, c *Cluster, nodes []*Node) error {
	if c.SpotMetadata == "" || c.Scheduler == nil || c.Scheduler.Commands().DrainSelf == "" {
		return nil
	}
	var spot []*Node
	for _, n := range nodes {
		if n.Lifecycle == cloud.Spot {
			spot = append(spot, n)
		}
	}
	if len(spot) == 0 {
		return nil
	}
	conf, err := json.MarshalIndent(spotWatchConfig{Metadata: c.SpotMetadata, Interval: SpotWatchInterval,
		Drain: c.Scheduler.Commands().DrainSelf}, "", "  ")
	if err != nil {
		return err
	}
	script := spotWatchInstallScript(string(conf))
	return c.ForEach(ctx, "spot interruption watcher", spot, func(ctx context.Context, n *Node) error {
		_, err := c.Sudo(ctx, n, script)
		return err
	})
}

// spotWatchInstallScript writes the watcher, its settings and its unit where they differ, and
// (re)starts it when anything changed or it does not run.
func spotWatchInstallScript(conf string) string {
	unit := fmt.Sprintf(`[Unit]
Description=clusterctl: drain this node in the scheduler when EC2 gives spot interruption notice
After=network-online.target

[Service]
ExecStart=/usr/bin/python3 %s %s
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
`, spotWatchBin, spotWatchConf)
	var b strings.Builder
	b.WriteString(`set -e
changed=
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
# put FILE MODE: install stdin as FILE when it differs
put() { cat > "$d/new"; if ! cmp -s "$d/new" "$1"; then install -m "$2" "$d/new" "$1"; changed=yes; fi; }
mkdir -p /etc/clusterctl /usr/local/sbin
`)
	for _, f := range []struct{ path, mode, content string }{
		{spotWatchBin, "0755", spotWatchScript}, {spotWatchConf, "0644", conf + "\n"}, {spotWatchUnit, "0644", unit},
	} {
		delim := remote.HeredocDelimiter(f.content)
		fmt.Fprintf(&b, "put %s %s <<'%s'\n%s%s\n", f.path, f.mode, delim, f.content, delim)
	}
	fmt.Fprintf(&b, `if [ -n "$changed" ]; then
  systemctl daemon-reload
  systemctl enable --quiet %[1]s
  systemctl restart %[1]s
elif ! systemctl is-active --quiet %[1]s; then
  systemctl restart %[1]s
fi
`, spotWatchUnitNm)
	return b.String()
}

// Package scale runs clusterctl's real operations (start with full setup, addnode, removenode,
// listclusters, a balancer iteration) against clusters of simulated nodes of any size
// (internal/cloud/sim) and measures them: wall time, SSH connections and round trips, bytes,
// master commands and cloud API calls. `make bench-scale` prints its figures. The same
// scenario, run against a real local cluster, records the answers the simulated nodes give.
package scale

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cluster"
	"github.com/clusterctl/clusterctl/internal/config"
	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/plugins"
)

// TemplateName is the template of testdata/cluster.ini every scenario starts.
const TemplateName = "sim"

//go:embed testdata/cluster.ini
var clusterINI []byte

// Template resolves the scenario's template with size nodes (the master included). dir holds
// the config file it is loaded from.
func Template(dir string, size int) (*config.Template, error) {
	return LoadTemplate(dir, clusterINI, TemplateName, size)
}

// LoadTemplate resolves template name of the config text ini with size nodes, the config
// written to dir.
func LoadTemplate(dir string, ini []byte, name string, size int) (*config.Template, error) {
	path := filepath.Join(dir, "cluster.ini")
	if err := os.WriteFile(path, ini, 0o600); err != nil {
		return nil, err
	}
	env := config.OSEnv()
	env.Home = dir
	cfg, err := config.Load(config.LoadOptions{Path: path, Env: &env, Catalog: plugins.NewCatalog()})
	if err != nil {
		return nil, err
	}
	tpl, rep, err := cfg.Resolve(name, map[string]string{"cluster_size": fmt.Sprint(size)})
	if err == nil {
		err = rep.Err()
	}
	return tpl, err
}

// Engine is the engine the scenarios run: the real one, on provider p, with the SSH transport
// and observer given, its state in stateDir.
func Engine(p cloud.Provider, stateDir string, dial func(ctx context.Context, network, addr string) (net.Conn, error),
	observe func(remote.Exchange), log *slog.Logger) *cluster.Engine {
	return &cluster.Engine{Provider: p, StateDir: stateDir, Log: log, Version: "scale", Dial: dial, Observe: observe,
		WaitTimeout: 30 * time.Minute,
		Secret:      plugins.NewCatalog().Secret}
}

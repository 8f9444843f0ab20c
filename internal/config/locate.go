package config

import (
	"os"
	"path/filepath"
)

// Location is where the config was found, or where it should be created, and every place that
// was searched, so "no config" can say exactly where clusterctl looked.
type Location struct {
	Path     string
	Searched []string
	// Exists is false when nothing was found and Path is the default place to create one.
	Exists bool
}

// Locate finds the config file: the --config flag, then $CLUSTERCTL_CONFIG, then
// $STARCLUSTER_CONFIG, then ~/.clusterctl/config, then ~/.starcluster/config (so a StarCluster
// user's existing file is used as it is).
func Locate(flag string, env Env) Location {
	var searched []string
	try := func(p string) (Location, bool) {
		p = env.ExpandPath(p)
		searched = append(searched, p)
		_, err := os.Stat(p)
		return Location{Path: p, Searched: searched, Exists: err == nil}, err == nil
	}
	if flag != "" {
		loc, _ := try(flag)
		return loc
	}
	for _, name := range []string{"CLUSTERCTL_CONFIG", "STARCLUSTER_CONFIG"} {
		if v, ok := env.lookup(name); ok && v != "" {
			loc, _ := try(v)
			return loc
		}
	}
	def := filepath.Join(env.Home, ".clusterctl", "config")
	if loc, ok := try(def); ok {
		return loc
	}
	if loc, ok := try(filepath.Join(env.Home, ".starcluster", "config")); ok {
		return loc
	}
	return Location{Path: def, Searched: searched}
}

// Package plugins lists clusterctl's compiled-in setup plugins. The list is explicit (no init()
// registration), so what a binary can run is visible in one place.
package plugins

import (
	"sort"
	"strings"

	"github.com/clusterctl/clusterctl/internal/config"
)

// Catalog resolves SETUP_CLASS values to built-in plugins and declares each one's parameters,
// so the config loader rejects a misspelt plugin or parameter before anything is launched.
type Catalog struct{ specs []config.PluginSpec }

// NewCatalog returns the catalog of every built-in plugin.
func NewCatalog() *Catalog { return &Catalog{specs: builtinSpecs()} }

// Lookup resolves a plugin name or a StarCluster class path (case-insensitive). Class paths may
// carry StarCluster's package prefix or not: starcluster.plugins.sge.SGEPlugin and
// sge.SGEPlugin both name sge.
func (c *Catalog) Lookup(setupClass string) (config.PluginSpec, bool) {
	want := strings.ToLower(strings.TrimSpace(setupClass))
	want = strings.TrimPrefix(want, "starcluster.plugins.")
	for _, s := range c.specs {
		if s.Name == want {
			return s, true
		}
		for _, a := range s.Aliases {
			if strings.ToLower(a) == want {
				return s, true
			}
		}
	}
	return config.PluginSpec{}, false
}

// Secret reports whether a built-in plugin's parameter is a secret (a password, a token), so
// cluster records leave its value out. It has the shape of cluster.Engine.Secret.
func (c *Catalog) Secret(builtin, param string) bool {
	spec, ok := c.Lookup(builtin)
	if !ok {
		return false
	}
	for _, st := range spec.Params {
		if st.Name == param {
			return st.Secret
		}
	}
	return false
}

// unshipped are StarCluster's own plugins clusterctl does not ship, by class path (lower case,
// without the starcluster.plugins. prefix), with what they set up.
func unshipped() map[string]string {
	return map[string]string{
		"hadoop.hadoop":      "Hadoop",
		"mysql.mysqlcluster": "MySQL Cluster",
		"boto.botoplugin":    "boto (~/.boto credentials)",
	}
}

// Unshipped recognizes a StarCluster plugin clusterctl does not ship, so the loader can say so
// instead of calling it a third-party Python plugin.
func (c *Catalog) Unshipped(setupClass string) (string, bool) {
	want := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(setupClass)), "starcluster.plugins.")
	what, ok := unshipped()[want]
	return what, ok
}

// Names lists the built-in plugins, sorted.
func (c *Catalog) Names() []string {
	out := make([]string, 0, len(c.specs))
	for _, s := range c.specs {
		out = append(out, s.Name)
	}
	sort.Strings(out)
	return out
}

// Specs returns every plugin declaration, sorted by name, for the reference docs.
func (c *Catalog) Specs() []config.PluginSpec {
	out := append([]config.PluginSpec(nil), c.specs...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

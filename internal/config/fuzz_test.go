package config_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/clusterctl/clusterctl/internal/config"
	"github.com/clusterctl/clusterctl/plugins"
)

// FuzzLoad feeds arbitrary text to the loader; whatever the input, it must return a config or
// problems, never panic. The seed corpus is every fixture, so `go test` runs them all.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("../../testdata/configs/*/*.ini")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Add("[cluster a]\nEXTENDS = a\n")
	f.Add("[global]\ninclude = config\n")
	f.Add("[cluster x]\nnode_instance_type = :::,\n")
	f.Add("[\n]\n[ ]\n=\n:\n\t\n")
	// Hostile inputs: interpolation cycles, self references, doubling chains, includes of
	// devices and FIFOs' stand-ins, values with newlines and shell characters.
	f.Add("[cluster a]\nx = %(y)s\ny = %(x)s\n")
	f.Add("[cluster a]\nCLUSTER_USER = %(cluster_user)s\n")
	f.Add("[cluster a]\na = %(b)s%(b)s%(b)s%(b)s\nb = %(c)s%(c)s%(c)s%(c)s\nc = %(d)s%(d)s%(d)s%(d)s\nd = xxxxxxxx\n")
	f.Add("[global]\ninclude = /dev/zero, /dev/null, /, .\n")
	f.Add("[volume v]\nVOLUME_ID = vol-1\nMOUNT_PATH = /data$(id)\n")
	f.Add("[cluster a]\nCLUSTER_USER = a\n  b\nNODE_IMAGE_ID = %(cluster_user)s\n")
	catalog := plugins.NewCatalog()
	f.Fuzz(func(t *testing.T, text string) {
		dir := t.TempDir()
		path := filepath.Join(dir, "config")
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		env := &config.Env{Home: dir, Cwd: dir, Lookup: func(string) (string, bool) { return "", false }}
		cfg, err := config.Load(config.LoadOptions{Path: path, Env: env, Catalog: catalog})
		if cfg == nil && err == nil {
			t.Fatal("no config and no error")
		}
		if cfg != nil {
			for _, name := range cfg.TemplateNames() {
				if tpl, err := cfg.Template(name, nil); err == nil {
					_ = cfg.View(tpl)
				}
			}
		}
	})
}

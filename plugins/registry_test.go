package plugins

import (
	"context"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/config"
	"github.com/clusterctl/clusterctl/internal/setup"
)

// requiredParams gives each plugin what its declaration requires, from the catalog's examples.
func requiredParams(spec config.PluginSpec) map[string]any {
	p := map[string]any{}
	for _, st := range spec.Params {
		if !st.Required {
			continue
		}
		switch st.Type {
		case config.List:
			p[st.Name] = []string{st.Example}
		default:
			p[st.Name] = st.Example
		}
	}
	return p
}

// TestNewEveryBuiltin builds every catalog entry but sge (the scheduler's settings) from
// its required parameters; the plugin answers to its catalog name.
func TestNewEveryBuiltin(t *testing.T) {
	extra := map[string]map[string]any{"users": {"num_users": 2}}
	for _, spec := range NewCatalog().Specs() {
		if IsScheduler(spec.Name) {
			if _, err := New(spec.Name, spec.Name, nil); err == nil {
				t.Errorf("%s built as a plugin", spec.Name)
			}
			continue
		}
		params := requiredParams(spec)
		for k, v := range extra[spec.Name] {
			params[k] = v
		}
		p, err := New(spec.Name, spec.Name, params)
		if err != nil {
			t.Errorf("%s: %v", spec.Name, err)
			continue
		}
		if p == nil || p.Name() != spec.Name {
			t.Errorf("%s: built %v", spec.Name, p)
		}
	}
}

func TestNewUnknown(t *testing.T) {
	for _, name := range []string{"hadoop", "", "SGE"} {
		if p, err := New(name, name, nil); err == nil || p != nil {
			t.Errorf("New(%q) = %v, %v; want an error", name, p, err)
		}
	}
}

// TestBadParamsFailInHooks: parameters a plugin cannot use are reported by the hooks that need
// them, before any node is touched (the cluster here has none), while removing nodes and
// shutting down still work where they do not need them.
func TestBadParamsFailInHooks(t *testing.T) {
	ctx := context.Background()
	empty := &setup.Cluster{}
	cases := []struct {
		name, builtin, want string
		params              map[string]any
		removeWorks         bool
	}{
		{"users without users", "users", "set num_users or usernames", map[string]any{}, true},
		{"users with a bad name", "users", "not a valid user name", map[string]any{"usernames": []string{"Bad Name"}}, true},
		{"ipcluster with an unknown packer", "ipcluster", "packer must be", map[string]any{"packer": "xml"}, true},
		{"ipcluster with an unknown log level", "ipcluster", "log_level must be", map[string]any{"log_level": "chatty"}, true},
		{"tmux with a dotted session", "tmux", "not a usable tmux session name", map[string]any{"envname": "a.b"}, false},
	}
	for _, tc := range cases {
		p, err := New(tc.builtin, tc.builtin, tc.params)
		if err != nil {
			t.Fatalf("%s: New: %v", tc.name, err)
		}
		for hook, err := range map[string]error{"Run": p.Run(ctx, empty), "OnAddNode": p.OnAddNode(ctx, empty, nil)} {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: %s: %v, want %q", tc.name, hook, err, tc.want)
			}
		}
		if err := p.OnRemoveNode(ctx, empty, nil); (err == nil) != tc.removeWorks {
			t.Errorf("%s: OnRemoveNode: %v", tc.name, err)
		}
		if err := p.OnShutdown(ctx, empty); err != nil {
			t.Errorf("%s: OnShutdown: %v", tc.name, err)
		}
	}
}

package config_test

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/config"
	"github.com/clusterctl/clusterctl/plugins"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// testEnv is a fixed environment so results never depend on the machine running the tests.
func testEnv(dir string, vars map[string]string) *config.Env {
	return &config.Env{Home: "/home/user", Cwd: dir, Lookup: func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}}
}

func load(t *testing.T, path string, vars map[string]string) (*config.Config, error) {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return config.Load(config.LoadOptions{Path: abs, Env: testEnv(filepath.Dir(abs), vars), Catalog: plugins.NewCatalog()})
}

// TestInvalidConfigs loads every testdata/configs/invalid/*.ini and compares every problem and
// warning `config validate` lists (errors for what some template uses, warnings for the rest),
// with file and line, to the .errors file beside it.
func TestInvalidConfigs(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/configs/invalid/*.ini")
	if len(files) < 8 {
		t.Fatalf("expected the invalid fixtures, found %d", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg, err := load(t, f, nil)
			var probs config.Problems
			if err != nil && !errors.As(err, &probs) {
				t.Fatalf("want config.Problems, got %v", err)
			}
			rep := cfg.Check("")
			if len(rep.Errors) == 0 {
				t.Fatalf("an invalid fixture without errors")
			}
			var lines []string
			for _, p := range rep.Errors {
				lines = append(lines, p.Error())
			}
			for _, w := range rep.Warnings {
				lines = append(lines, "warning: "+w.Error())
			}
			checkGolden(t, strings.TrimSuffix(f, ".ini")+".errors", strings.Join(lines, "\n")+"\n")
		})
	}
}

// checkGolden compares got with a golden file, which -update rewrites.
func checkGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		_ = os.WriteFile(golden, []byte(got), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it; review the diff)\n--- got\n%s--- want\n%s", golden, got, want)
	}
}

// TestValidConfigs loads every testdata/configs/valid/*.ini without problems and compares each
// resolved template (after includes, EXTENDS and defaults) to the .golden.json beside it.
func TestValidConfigs(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/configs/valid/*.ini")
	if len(files) == 0 {
		t.Fatal("no valid fixtures")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg, err := load(t, f, nil)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if rep := cfg.Check(""); len(rep.Errors) > 0 {
				t.Fatalf("check: %v", rep.Errors)
			}
			out := map[string]any{"warnings": warningLines(cfg)}
			views := map[string]config.View{}
			for _, name := range cfg.TemplateNames() {
				views[name] = cfg.View(cfg.Clusters[name])
			}
			out["templates"] = views
			got, _ := json.MarshalIndent(out, "", "  ")
			golden := strings.TrimSuffix(f, ".ini") + ".golden.json"
			if *update {
				_ = os.WriteFile(golden, append(got, '\n'), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if string(got)+"\n" != string(want) {
				t.Errorf("resolved config differs from %s (run go test -update and review the diff)\n%s", golden, got)
			}
		})
	}
}

func warningLines(cfg *config.Config) []string {
	out := []string{}
	for _, w := range cfg.Warnings {
		out = append(out, w.Error())
	}
	return out
}

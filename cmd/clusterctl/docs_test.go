package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/config"
	"github.com/clusterctl/clusterctl/internal/ui"
	"github.com/clusterctl/clusterctl/plugins"
)

var update = flag.Bool("update", false, "rewrite generated sections of README.md")

// TestREADME keeps the README's config reference and command list identical to what the code
// declares; `make docs` rewrites them.
func TestREADME(t *testing.T) {
	path := "../../README.md"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	streams, _, _, _ := ui.TestStreams()
	sections := map[string]string{
		"config-reference": config.Reference(plugins.NewCatalog().Specs()),
		"commands":         commandList(newRootCmd(&app{streams: streams})),
	}
	for name, want := range sections {
		begin, end := "<!-- "+name+":begin -->\n", "<!-- "+name+":end -->"
		i, j := strings.Index(text, begin), strings.Index(text, end)
		if i < 0 || j < i {
			t.Fatalf("README.md lacks the %s markers", name)
		}
		got := text[i+len(begin) : j]
		if got != want {
			if *update {
				text = text[:i+len(begin)] + want + text[j:]
				continue
			}
			t.Errorf("README.md's %s section is stale: run `make docs`", name)
		}
	}
	if *update {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// commandList renders every runnable command with its summary, as a Markdown table.
func commandList(root *cobra.Command) string {
	var b strings.Builder
	b.WriteString("| command | what it does |\n|---|---|\n")
	for _, c := range allCommands(root) {
		if c == root || c.Hidden || !c.Runnable() || c.Name() == "help" || c.HasSubCommands() {
			continue
		}
		fmt.Fprintf(&b, "| `%s` | %s |\n", strings.TrimPrefix(c.CommandPath(), "clusterctl "), c.Short)
	}
	return b.String()
}

// TestExamplesValidate loads every config under examples/ without problems.
func TestExamplesValidate(t *testing.T) {
	newHome(t)
	files, _ := filepath.Glob("../../examples/*.ini")
	if len(files) == 0 {
		t.Fatal("no examples")
	}
	for _, f := range files {
		abs, _ := filepath.Abs(f)
		if r := cli(t, "--config", abs, "config", "validate"); r.code != 0 {
			t.Errorf("%s: %+v", f, r)
		}
	}
}

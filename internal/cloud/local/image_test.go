package local

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// fakeImage makes a cached image whose record carries hash, with an empty root.
func fakeImage(t *testing.T, p *Provider, name, hash string) {
	t.Helper()
	if err := os.MkdirAll(p.imageRoot(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writeJSON(p.imageMetaPath(name), imageMeta{Name: name, Hash: hash, Built: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

func TestImageCacheDecisions(t *testing.T) {
	ctx := context.Background()
	def, _ := lookupImage("debian-12")
	var progress []string
	p, err := New(Options{StateDir: t.TempDir(), Progress: func(m string) { progress = append(progress, m) }})
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range []func() error{
		func() error { return p.EnsureImage(ctx, "nope") },
		func() error { return p.BuildImage(ctx, "nope", false) },
	} {
		if err := fn(); err == nil || !strings.Contains(err.Error(), "debian-12") {
			t.Errorf("unknown image: %v, want an error listing debian-12", err)
		}
	}

	// Current: nothing to do, for either entry point.
	fakeImage(t, p, def.Name, def.Hash())
	if err := p.EnsureImage(ctx, def.Name); err != nil {
		t.Fatal(err)
	}
	if err := p.BuildImage(ctx, def.Name, false); err != nil {
		t.Fatal(err)
	}
	if len(progress) != 1 || !strings.Contains(progress[0], "up to date") {
		t.Errorf("progress = %q, want one up-to-date line", progress)
	}

	// Stale but in use: start keeps it (saying so), a forced build refuses.
	fakeImage(t, p, def.Name, "old-hash")
	fakeCluster(t, p, "demo", []cloud.Mount{{Path: "/home"}})
	insts, _ := p.readInstances("demo")
	insts[0].ImageID = def.Name
	if err := p.saveInstance(insts[0]); err != nil {
		t.Fatal(err)
	}
	progress = nil
	if err := p.EnsureImage(ctx, def.Name); err != nil {
		t.Fatalf("EnsureImage with a stale image in use: %v", err)
	}
	if len(progress) != 1 || !strings.Contains(progress[0], "out of date but 1 instances use it") {
		t.Errorf("progress = %q", progress)
	}
	if err := p.BuildImage(ctx, def.Name, true); err == nil || !strings.Contains(err.Error(), "terminate them first") {
		t.Errorf("forced rebuild of an image in use: %v", err)
	}
	infos, err := p.Images()
	if err != nil || len(infos) != 1 || !infos[0].Exists || infos[0].Current {
		t.Errorf("Images() = %+v, %v; want one existing, stale image", infos, err)
	}
}

// TestBuildFailureNamesLog runs a real build against a mirror that refuses connections: the
// error names the step and the build log, and no partial root is left.
func TestBuildFailureNamesLog(t *testing.T) {
	requireHost(t)
	p, err := New(Options{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	def := ImageDef{Name: "broken", Suite: "bookworm", Mirror: "http://127.0.0.1:9/debian", Variant: "minbase", Include: []string{"systemd"}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err = p.build(ctx, def, false)
	if err == nil {
		t.Fatal("build against a dead mirror succeeded")
	}
	logPath := filepath.Join(p.imageDir, "broken", "build.log")
	for _, w := range []string{"debootstrap", logPath} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q: %v", w, err)
		}
	}
	if data, rerr := os.ReadFile(logPath); rerr != nil || !strings.Contains(string(data), "### failed") {
		t.Errorf("build log %s: %v\n%s", logPath, rerr, data)
	}
	for _, d := range []string{"rootfs", "rootfs.new", "image.json"} {
		if _, err := os.Stat(filepath.Join(p.imageDir, "broken", d)); !os.IsNotExist(err) {
			t.Errorf("%s left after a failed build: %v", d, err)
		}
	}
}

package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// imageMeta is image.json: which definition the cached root was built from, and when.
type imageMeta struct {
	Name         string    `json:"name"`
	Hash         string    `json:"hash"`
	Built        time.Time `json:"built"`
	BuildSeconds float64   `json:"build_seconds"`
	Def          ImageDef  `json:"definition"`
}

// ImageInfo describes a cached image, for `clusterctl image list`.
type ImageInfo struct {
	Name string
	// Path is the image's root filesystem.
	Path string
	// Exists is false until the image was built once.
	Exists bool
	// Current is true when the cached image matches its definition; a stale one is rebuilt by
	// the next start (when no instance uses it) or by `clusterctl image build`.
	Current bool
	Built   time.Time
}

func (p *Provider) imageRoot(name string) string { return filepath.Join(p.imageDir, name, "rootfs") }
func (p *Provider) imageMetaPath(name string) string {
	return filepath.Join(p.imageDir, name, "image.json")
}

// BuildLog is where the full output of the last build of image name is, for error messages.
func (p *Provider) BuildLog(name string) string { return filepath.Join(p.imageDir, name, "build.log") }

// imageInfo reads the cache state of one image.
func (p *Provider) imageInfo(def ImageDef) (ImageInfo, error) {
	info := ImageInfo{Name: def.Name, Path: p.imageRoot(def.Name)}
	var meta imageMeta
	err := readJSON(p.imageMetaPath(def.Name), &meta)
	if errors.Is(err, os.ErrNotExist) {
		return info, nil
	}
	if err != nil {
		return info, fmt.Errorf("image %s: %w", def.Name, err)
	}
	if st, err := os.Stat(info.Path); err != nil || !st.IsDir() {
		return info, nil
	}
	info.Exists, info.Current, info.Built = true, meta.Hash == def.Hash(), meta.Built
	return info, nil
}

// Images describes every image the provider can build and its cache state.
func (p *Provider) Images() ([]ImageInfo, error) {
	var out []ImageInfo
	for _, d := range imageDefs() {
		info, err := p.imageInfo(d)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// EnsureImage makes sure image name is cached and current, building it when missing or when
// its definition changed. A stale image that instances still use is kept (with a progress line
// saying so): replacing the lower layer under their overlays would corrupt them.
func (p *Provider) EnsureImage(ctx context.Context, name string) error {
	def, err := lookupImage(name)
	if err != nil {
		return err
	}
	info, err := p.imageInfo(def)
	if err != nil || info.Current {
		return err
	}
	if info.Exists {
		users, err := p.imageUsers(name)
		if err != nil {
			return err
		}
		if users > 0 {
			p.progress(fmt.Sprintf("%s: image is out of date but %d instances use it; keeping it (terminate them, then run `clusterctl image build %s`)", name, users, name))
			return nil
		}
	}
	return p.build(ctx, def, false)
}

// BuildImage builds image name when it is missing or stale, or always with force (`clusterctl
// image build`). It refuses to replace an image that instances use.
func (p *Provider) BuildImage(ctx context.Context, name string, force bool) error {
	def, err := lookupImage(name)
	if err != nil {
		return err
	}
	info, err := p.imageInfo(def)
	if err != nil {
		return err
	}
	if info.Current && !force {
		p.progress(fmt.Sprintf("%s: image is up to date (built %s)", name, info.Built.Format(time.RFC3339)))
		return nil
	}
	if info.Exists {
		users, err := p.imageUsers(name)
		if err != nil {
			return err
		}
		if users > 0 {
			return fmt.Errorf("rebuild image %s: %d instances use it; terminate them first", name, users)
		}
	}
	return p.build(ctx, def, force)
}

// imageUsers counts the instances (in any state) whose root is layered on the image.
func (p *Provider) imageUsers(name string) (int, error) {
	inv, err := p.readInventory()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, in := range inv.instances {
		if in.ImageID == name {
			n++
		}
	}
	return n, nil
}

// build runs the build steps into a temporary root next to the cache, then swaps it in, so a
// failed or interrupted build never leaves a half-made image in use. One build per image runs
// at a time, across processes; a process that waited for another's build uses its result.
func (p *Provider) build(ctx context.Context, def ImageDef, force bool) error {
	dir := filepath.Join(p.imageDir, def.Name)
	if err := p.ensurePrivate(); err != nil {
		return fmt.Errorf("build image %s: %w", def.Name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("build image %s: %w", def.Name, err)
	}
	lock, err := lockFile(ctx, filepath.Join(dir, "lock"), func() {
		p.progress(def.Name + ": waiting for another build of this image to finish")
	})
	if err != nil {
		return fmt.Errorf("build image %s: %w", def.Name, err)
	}
	defer lock.Unlock()
	if info, err := p.imageInfo(def); err == nil && info.Current && !force {
		return nil // built by another process while we waited
	}
	if err := requireTools("debootstrap", "systemd-nspawn"); err != nil {
		return fmt.Errorf("build image %s: %w", def.Name, err)
	}
	logPath := p.BuildLog(def.Name)
	logf, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("build image %s: %w", def.Name, err)
	}
	defer logf.Close()
	start := time.Now()
	tmp := filepath.Join(dir, "rootfs.new")
	if err := removeRoot(tmp); err != nil {
		return fmt.Errorf("build image %s: %w", def.Name, err)
	}
	steps := p.buildSteps(def, tmp, logf)
	for i, s := range steps {
		p.progress(fmt.Sprintf("%s: [%d/%d] %s", def.Name, i+1, len(steps), s.name))
		fmt.Fprintf(logf, "\n### [%d/%d] %s (%s)\n", i+1, len(steps), s.name, time.Now().UTC().Format(time.RFC3339))
		if err := s.run(ctx); err != nil {
			fmt.Fprintf(logf, "\n### failed: %v\n", err)
			_ = removeRoot(tmp)
			return fmt.Errorf("build image %s: %s: %w (full log: %s)", def.Name, s.name, err, logPath)
		}
	}
	if err := p.swapImage(def, tmp, time.Since(start)); err != nil {
		_ = removeRoot(tmp)
		return fmt.Errorf("build image %s: %w (full log: %s)", def.Name, err, logPath)
	}
	took := time.Since(start).Round(time.Second)
	fmt.Fprintf(logf, "\n### built in %s\n", took)
	p.progress(fmt.Sprintf("%s: built in %s", def.Name, took))
	p.log.Info("built image", "name", def.Name, "elapsed", took, "path", p.imageRoot(def.Name))
	return nil
}

// swapImage replaces the cached root with the freshly built one and records its definition.
// The old root is renamed aside first (directories cannot be renamed over), and image.json is
// written last, so an interruption leaves either no current image (rebuilt next time) or a
// complete one.
func (p *Provider) swapImage(def ImageDef, tmp string, took time.Duration) error {
	root, old := p.imageRoot(def.Name), p.imageRoot(def.Name)+".old"
	if err := removeRoot(old); err != nil {
		return err
	}
	if err := os.Remove(p.imageMetaPath(def.Name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("invalidate old image: %w", err)
	}
	if err := os.Rename(root, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("move old image aside: %w", err)
	}
	if err := os.Rename(tmp, root); err != nil {
		return fmt.Errorf("install new image: %w", err)
	}
	meta := imageMeta{Name: def.Name, Hash: def.Hash(), Built: time.Now().UTC().Truncate(time.Second),
		BuildSeconds: took.Round(time.Second).Seconds(), Def: def}
	if err := writeJSON(p.imageMetaPath(def.Name), meta); err != nil {
		return err
	}
	return removeRoot(old)
}

// removeRoot deletes a (partial) image root, unmounting anything a build left mounted in it.
func removeRoot(dir string) error {
	if err := unmountUnder(dir); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	return nil
}

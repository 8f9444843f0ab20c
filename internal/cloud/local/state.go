package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// The state directory is the local provider's only record, the equivalent of EC2's tags:
//
//	STATE/clusters/TAG/cluster.json            clusterRecord
//	STATE/clusters/TAG/shared/home/            bound at /home in every node
//	STATE/clusters/TAG/instances/ID/instance.json, upper/, work/, merged/, console.log
//	STATE/volumes/VOLID/volume.json, data/     bound at the volume's mount path
//	IMAGES/NAME/image.json, rootfs/, build.log
const (
	clusterFile  = "cluster.json"
	instanceFile = "instance.json"
	volumeFile   = "volume.json"
)

// stateVersion is written into every record, so a later format can read (or refuse) older ones.
const stateVersion = 1

// clusterRecord is a cluster's boundary: its subnet and bridge, what every node mounts, and the
// template recorded at creation.
type clusterRecord struct {
	Version   int           `json:"version"`
	Tag       string        `json:"tag"`
	CreatedAt time.Time     `json:"created_at"`
	Subnet    netip.Prefix  `json:"subnet"`
	Bridge    string        `json:"bridge"`
	Mounts    []cloud.Mount `json:"mounts"`
	Recorded  []byte        `json:"recorded,omitempty"`
}

// instanceRecord is one container: what it was launched as, its address, host key and the PID
// of its systemd-nspawn process. State is what clusterctl last did to it (pending, running,
// stopping, stopped); the reported state also depends on whether that process still lives.
type instanceRecord struct {
	Version      int             `json:"version"`
	ID           string          `json:"id"`
	Cluster      string          `json:"cluster"`
	Alias        string          `json:"alias"`
	Role         cloud.Role      `json:"role"`
	State        string          `json:"state"`
	Address      netip.Addr      `json:"address"`
	Lifecycle    cloud.Lifecycle `json:"lifecycle"`
	SpotPrice    string          `json:"spot_price,omitempty"`
	LaunchTime   time.Time       `json:"launch_time"`
	InstanceType string          `json:"instance_type"`
	ImageID      string          `json:"image_id"`
	KeyName      string          `json:"key_name,omitempty"`
	HostKey      string          `json:"host_key"`
	PID          int             `json:"pid,omitempty"`
}

// tagPattern keeps tags usable as directory names and in messages; the engine's own tag rules
// are stricter.
var tagPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// checkTag refuses tags that would escape the clusters directory.
func checkTag(tag string) error {
	if !tagPattern.MatchString(tag) {
		return fmt.Errorf("cluster tag %q: use letters, digits, '.', '_' and '-'", tag)
	}
	return nil
}

func (p *Provider) clustersDir() string          { return filepath.Join(p.stateDir, "clusters") }
func (p *Provider) clusterDir(tag string) string { return filepath.Join(p.clustersDir(), tag) }
func (p *Provider) sharedHome(tag string) string {
	return filepath.Join(p.clusterDir(tag), "shared", "home")
}
func (p *Provider) instancesDir(tag string) string {
	return filepath.Join(p.clusterDir(tag), "instances")
}
func (p *Provider) instanceDir(tag, id string) string { return filepath.Join(p.instancesDir(tag), id) }
func (p *Provider) volumesDir() string                { return filepath.Join(p.stateDir, "volumes") }
func (p *Provider) volumeDir(id string) string        { return filepath.Join(p.volumesDir(), id) }

// mergedDir is where an instance's overlay root is mounted and booted from.
func (p *Provider) mergedDir(rec instanceRecord) string {
	return filepath.Join(p.instanceDir(rec.Cluster, rec.ID), "merged")
}

// writeJSON replaces path with v's JSON atomically (temp file + rename), so a reader in another
// process never sees half a record.
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, werr := tmp.Write(append(data, '\n'))
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// readJSON decodes path into v; a missing file is an error wrapping os.ErrNotExist.
func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}

// readCluster returns the cluster's record, or an error wrapping cloud.ErrNotFound.
func (p *Provider) readCluster(tag string) (clusterRecord, error) {
	var rec clusterRecord
	if err := checkTag(tag); err != nil {
		return rec, fmt.Errorf("cluster %q: %w", tag, cloud.ErrNotFound)
	}
	err := readJSON(filepath.Join(p.clusterDir(tag), clusterFile), &rec)
	if errors.Is(err, os.ErrNotExist) {
		return rec, fmt.Errorf("cluster %s: %w", tag, cloud.ErrNotFound)
	}
	if err != nil {
		return rec, fmt.Errorf("cluster %s: %w", tag, err)
	}
	return rec, nil
}

// readClusters returns every cluster's record, sorted by tag. Directories without a record
// (a creation interrupted before writing it) are skipped.
func (p *Provider) readClusters() ([]clusterRecord, error) {
	entries, err := os.ReadDir(p.clustersDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list clusters: %w", err)
	}
	var out []clusterRecord
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		rec, err := p.readCluster(e.Name())
		if errors.Is(err, cloud.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Tag < out[j].Tag })
	return out, nil
}

// readInstances returns the records of a cluster's instances (unsorted). Instance directories
// without a record are skipped; DeleteCluster cleans them up.
func (p *Provider) readInstances(tag string) ([]instanceRecord, error) {
	entries, err := os.ReadDir(p.instancesDir(tag))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("instances of cluster %s: %w", tag, err)
	}
	var out []instanceRecord
	for _, e := range entries {
		var rec instanceRecord
		err := readJSON(filepath.Join(p.instancesDir(tag), e.Name(), instanceFile), &rec)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("instances of cluster %s: %w", tag, err)
		}
		out = append(out, rec)
	}
	return out, nil
}

// findInstance locates an instance by id in any cluster, or fails wrapping cloud.ErrNotFound.
func (p *Provider) findInstance(id string) (instanceRecord, error) {
	var rec instanceRecord
	if !instanceIDPattern.MatchString(id) {
		return rec, fmt.Errorf("instance %q: %w", id, cloud.ErrNotFound)
	}
	matches, err := filepath.Glob(filepath.Join(p.clustersDir(), "*", "instances", id, instanceFile))
	if err != nil {
		return rec, fmt.Errorf("find instance %s: %w", id, err)
	}
	if len(matches) == 0 {
		return rec, fmt.Errorf("instance %s: %w", id, cloud.ErrNotFound)
	}
	if err := readJSON(matches[0], &rec); err != nil {
		return rec, fmt.Errorf("instance %s: %w", id, err)
	}
	return rec, nil
}

// saveInstance writes an instance's record.
func (p *Provider) saveInstance(rec instanceRecord) error {
	rec.Version = stateVersion
	return writeJSON(filepath.Join(p.instanceDir(rec.Cluster, rec.ID), instanceFile), rec)
}

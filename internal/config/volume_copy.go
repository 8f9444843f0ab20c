package config

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// The ways nodes get a volume's data (SHARE).
const (
	// ShareMaster attaches the volume to the master, which shares it over NFS (StarCluster's).
	ShareMaster = "master"
	// ShareCopy gives every node a volume of its own created from a snapshot.
	ShareCopy = "copy"
)

// snapshotIDRE is what a snapshot id looks like: EC2's snap- with 8 or 17 hex digits, the
// local provider's with 12.
var snapshotIDRE = regexp.MustCompile(`^snap-[0-9a-f]{8,17}$`)

// checkShare checks the keys that depend on SHARE: a shared volume needs VOLUME_ID, a copied
// one SNAPSHOT_ID (and not VOLUME_ID), and the copy-only keys are refused on shared volumes
// rather than silently ignored.
func (l *loader) checkShare(rs *rawSection, v *Volume) {
	label := sectionLabel(rs)
	at := func(key string) Pos {
		if k, ok := rs.Keys[key]; ok {
			return k.Pos
		}
		return rs.Pos
	}
	_, snapSet := rs.Keys["snapshot_id"]
	if v.Share == ShareCopy {
		switch {
		case v.SnapshotID == "":
			l.problem(Problem{Pos: at("share"), Section: label, Key: "snapshot_id", Msg: "SHARE = copy needs SNAPSHOT_ID",
				Hint: "name the snapshot every node's copy is created from, e.g. SNAPSHOT_ID = snap-0123456789abcdef0"})
		case !snapshotIDRE.MatchString(v.SnapshotID):
			l.problem(Problem{Pos: at("snapshot_id"), Section: label, Key: "snapshot_id",
				Msg: fmt.Sprintf("SNAPSHOT_ID %q is not a snapshot id", v.SnapshotID), Hint: "snapshot ids look like snap-0123456789abcdef0"})
		}
		if v.VolumeID != "" {
			l.problem(Problem{Pos: at("volume_id"), Section: label, Key: "volume_id",
				Msg:  "VOLUME_ID cannot be used with SHARE = copy: every node's copy is created from SNAPSHOT_ID",
				Hint: "remove VOLUME_ID (to copy that volume's data, snapshot it and name the snapshot)"})
		}
		return
	}
	if v.VolumeID == "" {
		l.problem(Problem{Pos: rs.Pos, Section: label, Key: "volume_id", Msg: "missing required key VOLUME_ID",
			Hint: "add VOLUME_ID = vol-0123456789abcdef0, or SHARE = copy with SNAPSHOT_ID to give every node its own copy of a snapshot"})
	}
	if snapSet {
		l.problem(Problem{Pos: at("snapshot_id"), Section: label, Key: "snapshot_id",
			Msg: "SNAPSHOT_ID is only used with SHARE = copy", Hint: "add SHARE = copy to give every node a copy of the snapshot"})
	}
	for _, k := range []string{"read_only", "keep_copies"} {
		if _, set := rs.Keys[k]; set {
			l.problem(Problem{Pos: at(k), Section: label, Key: k,
				Msg: strings.ToUpper(k) + " only applies to SHARE = copy", Hint: "remove it, or add SHARE = copy"})
		}
	}
}

// dataSnapshots turns the template's DATA_SNAPSHOTS (GBrowse's list: items separated by spaces
// or commas, SNAP or SNAP:/path) into copied volumes named data, data2, ... mounted read-only
// at /data, /data2, ... unless a path is given.
func (l *loader) dataSnapshots(t *Template, bad func(key, hint, format string, args ...any)) {
	var items []string
	for _, it := range t.DataSnapshots {
		items = append(items, strings.Fields(it)...)
	}
	for i, it := range items {
		name := "data"
		if i > 0 {
			name += strconv.Itoa(i + 1)
		}
		snap, mount, hasPath := strings.Cut(it, ":")
		if !hasPath {
			mount = "/" + name
		}
		switch {
		case !snapshotIDRE.MatchString(snap):
			bad("data_snapshots", "snapshot ids look like snap-0123456789abcdef0", "DATA_SNAPSHOTS item %q is not a snapshot id", snap)
			continue
		case !path.IsAbs(mount) || path.Clean(mount) != mount || mount == "/":
			bad("data_snapshots", "write SNAP:/path with a clean absolute path other than /", "DATA_SNAPSHOTS item %q: %q is not a mount path", it, mount)
			continue
		}
		for _, v := range t.Volumes {
			if v.Name == name {
				bad("data_snapshots", "rename the [volume "+name+"] section", "DATA_SNAPSHOTS names its copies data, data2, ...; volume %s is taken by a [volume] section", name)
			}
		}
		from := t.Sources["data_snapshots"]
		t.Volumes = append(t.Volumes, &Volume{Name: name, MountPath: mount, Share: ShareCopy, SnapshotID: snap, ReadOnly: true,
			FromDataSnapshots: true, Sources: map[string]Pos{"snapshot_id": from, "mount_path": from, "share": from, "read_only": from, "keep_copies": from}})
	}
}

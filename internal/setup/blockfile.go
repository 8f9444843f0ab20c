package setup

import (
	"fmt"
	"sort"
	"strings"

	"github.com/clusterctl/clusterctl/internal/remote"
)

// Markers around the lines clusterctl manages in a shared system file (/etc/hosts,
// /etc/ssh/ssh_known_hosts, /etc/fstab, exports): everything outside them is left alone.
const (
	blockBegin = "# clusterctl begin"
	blockEnd   = "# clusterctl end"
)

// blockEdit describes a change to the managed block of a file. Lines are keyed by a field
// (1-based; its first comma-separated item), so a node's line can be replaced or dropped
// without touching the others: adding k nodes sends k lines to each node instead of
// rewriting the whole file, which is what made StarCluster's add/remove O(N) per node.
type blockEdit struct {
	File     string
	KeyField int
	// Add lines go at the end of the block; lines with the same keys are dropped first, so
	// running the edit twice changes nothing.
	Add []string
	// Drop removes the lines with these keys.
	Drop []string
	// DropOutside removes lines outside the block starting with this prefix (Debian maps the
	// host name to 127.0.1.1, which Grid Engine must not see).
	DropOutside string
	// Mode creates the file with this mode when missing (e.g. 0644).
	Mode string
}

// Script renders the edit as a POSIX shell script run as root on the node. The file keeps its
// inode (cat >), which matters for bind-mounted files such as a container's /etc/hosts.
func (b blockEdit) Script() string {
	keys := map[string]bool{}
	for _, k := range b.Drop {
		keys[k] = true
	}
	for _, l := range b.Add {
		if f := strings.Fields(l); len(f) >= b.KeyField {
			keys[strings.Split(f[b.KeyField-1], ",")[0]] = true
		}
	}
	drop := make([]string, 0, len(keys))
	for k := range keys {
		drop = append(drop, k)
	}
	sort.Strings(drop)
	mode := b.Mode
	if mode == "" {
		mode = "0644"
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "set -e\nf=%s\n", remote.Quote(b.File))
	fmt.Fprintf(&sb, "[ -e \"$f\" ] || install -m %s /dev/null \"$f\"\n", mode)
	add := strings.Join(b.Add, "\n")
	delim := remote.HeredocDelimiter(add)
	// A private directory: a name derived from mktemp's in /tmp could be planted as a link.
	fmt.Fprintf(&sb, "d=$(mktemp -d)\ntmp=$d/new\ncat > \"$d/add\" <<'%s'\n", delim)
	if len(b.Add) > 0 {
		sb.WriteString(add + "\n")
	}
	sb.WriteString(delim + "\n")
	fmt.Fprintf(&sb, "awk -v drop=%s -v field=%d -v outside=%s -v addfile=\"$d/add\" -v begin=%s -v end=%s '\n",
		remote.Quote(strings.Join(drop, " ")), b.KeyField, remote.Quote(b.DropOutside), remote.Quote(blockBegin), remote.Quote(blockEnd))
	sb.WriteString(`function addlines(  l) { while ((getline l < addfile) > 0) print l; close(addfile) }
BEGIN { n = split(drop, d, " "); for (i = 1; i <= n; i++) skip[d[i]] = 1 }
$0 == begin { inb = 1; seen = 1; print; next }
$0 == end { addlines(); inb = 0; print; next }
inb { split($field, k, ","); if (k[1] in skip) next; print; next }
outside != "" && index($0, outside) == 1 { next }
{ print }
END { if (!seen) { print begin; addlines(); print end } }
' "$f" > "$tmp"
cat "$tmp" > "$f"
rm -rf "$d"
`)
	return sb.String()
}

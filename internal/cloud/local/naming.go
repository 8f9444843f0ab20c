package local

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strconv"
)

// Instance, volume and snapshot ids look like EC2's (i-..., vol-..., snap-...) so users and the engine's messages
// read the same on both providers; 12 random hex digits make collisions negligible.
var (
	instanceIDPattern = regexp.MustCompile(`^i-[0-9a-f]{12}$`)
	volumeIDPattern   = regexp.MustCompile(`^vol-[0-9a-f]{12}$`)
	snapshotIDPattern = regexp.MustCompile(`^snap-[0-9a-f]{12}$`)
)

// newID returns prefix followed by 12 random hex digits.
func newID(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return prefix + hex.EncodeToString(b[:])
}

// maxIfName is Linux's limit on interface names (IFNAMSIZ - 1).
const maxIfName = 15

// bridgeName is the cluster's bridge: "cc" and 6 hex digits of a hash of the tag (attempt > 0
// rehashes after a collision). Tags are too long for the 15-character interface name limit,
// and a hash keeps the name stable for a tag, so a stale bridge is recognisable.
func bridgeName(tag string, attempt int) string {
	in := tag
	if attempt > 0 {
		in += "#" + strconv.Itoa(attempt)
	}
	sum := sha256.Sum256([]byte(in))
	return "cc" + hex.EncodeToString(sum[:3])
}

// machineName is the name systemd-nspawn knows an instance by. It is the instance id, not
// TAG-alias: nspawn names the host side of the veth "vb-" plus the machine name cut to 15
// characters, so names sharing a long prefix (democluster-node001, democluster-node002) would
// collide, while ids differ within their first characters.
func machineName(id string) string { return id }

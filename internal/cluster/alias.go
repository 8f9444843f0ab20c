// Package cluster is the engine: it turns a resolved template into a launched cluster and manages
// it afterwards (start, stop, terminate, list), talking to machines only through a
// cloud.Provider.
package cluster

import (
	"fmt"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// MasterAlias is the master's alias; with DNS_PREFIX it becomes TAG-master.
const MasterAlias = "master"

// nodeRE matches worker aliases with or without a DNS prefix; the number may exceed three
// digits (node1000), which StarCluster's alias scheme could not handle.
var nodeRE = regexp.MustCompile(`(?:^|-)node(\d{3,})$`)

// NodeAlias is the alias of worker n (1-based): node001 ... node999, node1000, ...
func NodeAlias(n int) string { return fmt.Sprintf("node%03d", n) }

// Prefixed applies the DNS prefix (TAG-alias) when asked.
func Prefixed(tag, alias string, dnsPrefix bool) string {
	if dnsPrefix {
		return tag + "-" + alias
	}
	return alias
}

// NodeNumber returns the number of a worker alias (node007 -> 7, mytag-node1000 -> 1000), or 0
// for anything else (the master, a custom alias).
func NodeNumber(alias string) int {
	m := nodeRE.FindStringSubmatch(alias)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// NextAliases returns n new worker aliases numbered after the highest existing one, so aliases
// are never reused while an old node with that name may still be known to the cluster.
func NextAliases(existing []string, n int, tag string, dnsPrefix bool) []string {
	highest := 0
	for _, a := range existing {
		highest = max(highest, NodeNumber(a))
	}
	out := make([]string, n)
	for i := range out {
		out[i] = Prefixed(tag, NodeAlias(highest+1+i), dnsPrefix)
	}
	return out
}

// SortAliases orders aliases the way people read them: master first, then workers by number,
// then anything else by name.
func SortAliases(aliases []string) {
	sort.SliceStable(aliases, func(i, j int) bool { return cloud.AliasLess(aliases[i], aliases[j]) })
}

func isMaster(alias string) bool {
	return alias == MasterAlias || strings.HasSuffix(alias, "-"+MasterAlias)
}

// hostnameRE is a valid host name label sequence (RFC 1123), which aliases become.
var hostnameRE = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)

// tagRE limits cluster tags to what every provider accepts in names (security group names,
// bridge and directory names, host names with DNS_PREFIX).
var tagRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]{0,39}$`)

// TagError is a cluster tag that breaks the tag rule. Every command checks its tags before
// any use, since a tag becomes part of file names (known_hosts, keys, balancer files), group
// names and host names: "../../.ssh/id_rsa" must never reach a path.
type TagError struct{ Tag string }

func (e *TagError) Error() string {
	return fmt.Sprintf("cluster tag %q is not valid: use up to 40 letters, digits, - and _, starting with a letter or digit", e.Tag)
}

// CheckTagName validates a cluster tag by the tag rule alone (CheckTag adds the DNS prefix
// rule for new clusters).
func CheckTagName(tag string) error {
	if !tagRE.MatchString(tag) {
		return &TagError{Tag: tag}
	}
	return nil
}

// CheckTag validates a cluster tag, and with DNS_PREFIX that the prefixed aliases are valid
// host names.
func CheckTag(tag string, dnsPrefix bool) error {
	if err := CheckTagName(tag); err != nil {
		return err
	}
	if dnsPrefix && !hostnameRE.MatchString(Prefixed(tag, "node001", true)) {
		return fmt.Errorf("with DNS_PREFIX the node names become %s, which is not a valid host name: use a tag of letters, digits and -", Prefixed(tag, "node001", true))
	}
	return nil
}

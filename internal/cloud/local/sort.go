package local

import (
	"sort"
	"strconv"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// sortInstances orders instances by alias (aliasLess), then by id. The engine relies on this
// order (master first, node002 before node010), the same as the EC2 provider's.
func sortInstances(in []cloud.Instance) {
	sort.SliceStable(in, func(i, j int) bool {
		if in[i].Alias != in[j].Alias {
			return aliasLess(in[i].Alias, in[j].Alias)
		}
		return in[i].ID < in[j].ID
	})
}

// aliasLess orders aliases the way users read them: master first, then by name prefix and
// number, so node1000 follows node999. Empty aliases sort last.
func aliasLess(a, b string) bool {
	ra, rb := aliasRank(a), aliasRank(b)
	if ra != rb {
		return ra < rb
	}
	pa, na, oka := splitAlias(a)
	pb, nb, okb := splitAlias(b)
	if pa != pb {
		return pa < pb
	}
	if oka && okb && na != nb {
		return na < nb
	}
	if oka != okb {
		return !oka
	}
	return a < b
}

func aliasRank(a string) int {
	switch {
	case a == string(cloud.RoleMaster):
		return 0
	case a == "":
		return 2
	}
	return 1
}

// splitAlias splits "node012" into ("node", 12, true); without trailing digits ok is false.
func splitAlias(a string) (string, uint64, bool) {
	i := len(a)
	for i > 0 && a[i-1] >= '0' && a[i-1] <= '9' {
		i--
	}
	if i == len(a) {
		return a, 0, false
	}
	n, err := strconv.ParseUint(a[i:], 10, 64)
	if err != nil {
		return a, 0, false
	}
	return a[:i], n, true
}

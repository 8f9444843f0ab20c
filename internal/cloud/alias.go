package cloud

import (
	"sort"
	"strconv"
)

// SortInstances orders instances by alias (AliasLess), then by id. The engine relies on this
// order (master first, node002 before node010) from every provider.
func SortInstances(in []Instance) {
	sort.SliceStable(in, func(i, j int) bool {
		if in[i].Alias != in[j].Alias {
			return AliasLess(in[i].Alias, in[j].Alias)
		}
		return in[i].ID < in[j].ID
	})
}

// AliasLess orders aliases the way users read them: master first, then by name prefix and
// number, so node1000 follows node999 (StarCluster's node(\d{3}) assumed three digits). Empty
// aliases (instances not yet tagged) sort last.
func AliasLess(a, b string) bool {
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
	case a == string(RoleMaster):
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

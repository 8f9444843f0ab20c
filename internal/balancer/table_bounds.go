package balancer

import "fmt"

// MaxWorkers is the most workers any row of the table asks for.
func (t LoadTable) MaxWorkers() int {
	n := 0
	for _, r := range t {
		n = max(n, r.Max)
	}
	return n
}

// ApplyTableBounds makes the load table the bounds of a table-policy balancer unless the user
// gave them: without -m the cluster may grow to the table's largest row (plus the master),
// instead of the template's CLUSTER_SIZE, which silently capped the table (a 1-node template
// never grew). maxSet and minSet say whether -m and -n were given. It returns, in words, every
// way the given bounds cap the table, for the caller to say once at start; per-iteration
// reasons then read as the consequence of a bound the user was told about.
func ApplyTableBounds(s *Settings, maxSet, minSet bool) []string {
	if s.Policy != PolicyTable || len(s.LoadTable) == 0 {
		return nil
	}
	top := s.LoadTable.MaxWorkers()
	if !maxSet {
		s.MaxNodes = max(top+1, s.minNodes())
	}
	var notes []string
	if maxSet && s.MaxNodes-1 < top {
		var capped []string
		for _, r := range s.LoadTable {
			if r.Min > s.MaxNodes-1 || r.Max > s.MaxNodes-1 {
				capped = append(capped, fmt.Sprintf(">= %g", r.Threshold))
			}
		}
		notes = append(notes, fmt.Sprintf("max nodes %d (-m) allows at most %s, fewer than the load table asks for: "+
			"the rows from threshold %s on (up to %d workers) are capped at %s; leave out -m to follow the table",
			s.MaxNodes, plural(s.MaxNodes-1, "worker"), capped[0], top, plural(s.MaxNodes-1, "worker")))
	}
	if floor := s.minNodes() - 1; minSet && floor > 0 {
		notes = append(notes, fmt.Sprintf("min nodes %d (-n) keeps at least %s even where the load table asks for fewer "+
			"(below its first threshold, %g, it asks for none); leave out -n to follow the table",
			s.MinNodes, plural(floor, "worker"), s.LoadTable[0].Threshold))
	}
	return notes
}

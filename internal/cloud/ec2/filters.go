package ec2

import (
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// tagFilters matches resources that carry every tag (an empty value matches any value), in key
// order so requests are reproducible.
func tagFilters(tags map[string]string) []types.Filter {
	var out []types.Filter
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		if v := tags[k]; v != "" {
			out = append(out, filter("tag:"+k, v))
		} else {
			out = append(out, filter("tag-key", k))
		}
	}
	return out
}

// byIDs calls list once per batch of ids, adding a filter idFilter with the batch to base (an
// unknown id is then simply absent, where naming it in the request would fail the whole call),
// or once with base alone when there are no ids.
func byIDs(base []types.Filter, idFilter string, ids []string, list func([]types.Filter) error) error {
	if len(ids) == 0 {
		return list(base)
	}
	for _, batch := range chunks(ids, idsPerFilter) {
		if err := list(append(slices.Clone(base), filter(idFilter, batch...))); err != nil {
			return err
		}
	}
	return nil
}

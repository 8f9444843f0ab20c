package ec2

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

func TestAliasListRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		aliases []string
		want    string
	}{
		{"a numbered run", nodeAliases(100), "node001..node100"},
		{"two are listed", []string{"node001", "node002"}, "node001,node002"},
		{"gaps split runs", []string{"node001", "node002", "node003", "node007", "node008", "node009"}, "node001..node003,node007..node009"},
		{"widths do not mix", []string{"node998", "node999", "node1000", "node1001", "node1002"}, "node998,node999,node1000..node1002"},
		{"names without numbers", []string{"gpu", "big", "node001"}, "gpu,big,node001"},
		{"prefixed aliases", []string{"mc-node001", "mc-node002", "mc-node003"}, "mc-node001..mc-node003"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := encodeAliases(tt.aliases)
			if got != tt.want {
				t.Fatalf("encodeAliases = %q, want %q", got, tt.want)
			}
			back, err := decodeAliases(got, maxBatch)
			if err != nil || !slices.Equal(back, tt.aliases) {
				t.Fatalf("decodeAliases(%q) = %v, %v", got, back, err)
			}
		})
	}
}

// TestAliasListRefusesHostileValues: the tag can be rewritten by anyone allowed to tag
// instances; it must never expand beyond a launch's size.
func TestAliasListRefusesHostileValues(t *testing.T) {
	for _, v := range []string{"node000001..node999999", "node001..node101", "node010..node001", "node01..node100",
		"a001..b002", "node001..", "node001,,node002", strings.Repeat("node001..node050,", 3)} {
		if got, err := decodeAliases(v, maxBatch); err == nil {
			t.Errorf("decodeAliases(%q) = %d aliases, want an error", v, len(got))
		}
	}
}

func TestBatchTagsNameEveryInstance(t *testing.T) {
	aliases := nodeAliases(100)
	keys := hostPublicKeys(hostKeys(t, aliases))
	tags, err := batchTags("big", aliases, keys)
	if err != nil {
		t.Fatal(err)
	}
	// cluster and role come beside these; EC2 allows 50 tags on a resource.
	if len(tags)+2 > 50 {
		t.Fatalf("%d tags", len(tags))
	}
	for k, v := range tags {
		if len(v) > maxTagValue {
			t.Errorf("tag %s is %d characters", k, len(v))
		}
	}
	for i, a := range aliases {
		alias, key, ok := batchMember(tags, i)
		if !ok || alias != a || key != keys[a] {
			t.Fatalf("launch index %d: %q %q %v, want %q %q", i, alias, key, ok, a, keys[a])
		}
	}
	if alias, _, ok := batchMember(tags, 100); !ok || alias == "node100" || !strings.Contains(alias, "..") {
		t.Errorf("an index outside the list gave alias %q", alias)
	}
	// One instance is tagged as it always was.
	one, err := batchTags("big", aliases[:1], keys)
	if err != nil || one[cloud.TagAlias] != "node001" || one[cloud.TagHostKey] != keys["node001"] || one[cloud.TagName] != "big-node001" {
		t.Fatalf("single instance tags %v, %v", one, err)
	}
}

func TestTagGroupsFitTheTags(t *testing.T) {
	var scattered []string
	for i := range 250 {
		scattered = append(scattered, fmt.Sprintf("host%05d", i*7))
	}
	for _, aliases := range [][]string{nodeAliases(1000), nodeAliases(130), scattered} {
		var all []string
		for _, g := range tagGroups(aliases) {
			if len(g) > maxBatch || len(encodeAliases(g)) > maxTagValue {
				t.Fatalf("a group of %d whose list is %d characters", len(g), len(encodeAliases(g)))
			}
			all = append(all, g...)
		}
		if !slices.Equal(all, aliases) {
			t.Fatalf("groups lost or reordered aliases")
		}
	}
}

package remote

import (
	"strings"
	"testing"
)

func TestRemoteNames(t *testing.T) {
	for _, tc := range []struct {
		src, p, rel, err string
	}{
		{"results", "results", "", ""},
		{"results", "results/a/b", "a/b", ""},
		{"results/", "results/a", "a", ""},
		{"./results", "results/a", "a", ""},
		{"/", "/etc", "etc", ""},
		{".", "a", "a", ""},
		{"results", "../x", "", "not inside"},
		{"results", "results2/x", "", "not inside"},
		{".", "../x", "", "refusing it"},
		{"/data", "/data/a/../b", "", "refusing it"},
	} {
		rel, err := relBelow(tc.src, tc.p)
		if tc.err == "" && (err != nil || rel != tc.rel) || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("relBelow(%q, %q) = %q, %v; want %q, %q", tc.src, tc.p, rel, err, tc.rel, tc.err)
		}
	}
	deep := strings.Repeat("d/", maxRemoteDepth) + "x"
	if err := checkRemoteRel(deep); err == nil {
		t.Error("a tree deeper than the bound was accepted")
	}
	for _, tc := range []struct{ dst, target, why string }{
		{"tree/in", "ok.txt", ""},
		{"tree/sub/in", "../ok.txt", ""},
		{"tree/abs", "/home/op/.ssh", "absolute"},
		{"tree/up", "../../x", "outside"},
		{"top", "..", "outside"},
		{"tree/nul", "a\x00b", "NUL"},
	} {
		if why := linkLeavesTree(tc.dst, tc.target); (why == "") != (tc.why == "") || !strings.Contains(why, tc.why) {
			t.Errorf("linkLeavesTree(%q, %q) = %q, want %q", tc.dst, tc.target, why, tc.why)
		}
	}
}

package scheduler

import (
	"testing"
	"time"
)

func TestParseSnapshot(t *testing.T) {
	snap, err := ParseSnapshot("now 1795979301 +0130\n--- a\nx\ny\n--- b\n--- c\nz\n")
	if err != nil {
		t.Fatal(err)
	}
	if !snap.Time.Equal(time.Unix(1795979301, 0)) || snap.Time.Location() != time.UTC {
		t.Errorf("time %v", snap.Time)
	}
	if _, off := time.Date(2026, 1, 1, 0, 0, 0, 0, snap.Zone).Zone(); off != 90*60 {
		t.Errorf("zone offset %d", off)
	}
	if snap.Sections["a"] != "x\ny\n" || snap.Sections["b"] != "" || snap.Sections["c"] != "z\n" {
		t.Errorf("sections %q", snap.Sections)
	}
	for _, bad := range []string{"", "garbage\n--- a\n", "now x +0000\n", "now 1 Z\n"} {
		if _, err := ParseSnapshot(bad); err == nil {
			t.Errorf("ParseSnapshot(%q) did not fail", bad)
		}
	}
}

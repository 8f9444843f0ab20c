package main

import (
	"fmt"
	"io"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/ui"
)

// printCopies shows the volumes every node gets a copy of (SHARE = copy), for start's dry run.
func printCopies(w io.Writer, copies []cloud.LaunchVolume) error {
	if len(copies) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nVolumes copied to every node from a snapshot:")
	t := ui.NewTable("volume", "snapshot", "mount path", "device", "mode", "on removal")
	for _, c := range copies {
		mode, removal := "read-only", "deleted"
		if !c.ReadOnly {
			mode = "writable"
		}
		if c.Keep {
			removal = "kept"
		}
		t.AddRow(c.Name, c.SnapshotID, c.MountPath, c.Device, mode, removal)
	}
	return t.Render(w)
}

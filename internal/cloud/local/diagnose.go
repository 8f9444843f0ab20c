package local

import (
	"context"
	"strings"
)

// Diagnose says why an instance may not answer: its systemd's boot state (failed units, logins
// refused) when the container runs, and the end of its console.
func (p *Provider) Diagnose(ctx context.Context, tag, instanceID string) string {
	rec, err := p.findInstance(instanceID)
	if err != nil {
		return err.Error()
	}
	var parts []string
	if !nspawnAlive(rec.PID, machineName(rec.ID)) {
		parts = append(parts, "its container is not running")
	} else if st, err := p.readBootState(ctx, rec.PID); err != nil {
		parts = append(parts, "boot state unknown: "+err.Error())
	} else {
		parts = append(parts, st.String())
	}
	if tail := consoleTail(p.instanceDir(tag, instanceID), 5); tail != "" {
		parts = append(parts, "console: "+strings.ReplaceAll(tail, "\n", " | "))
	}
	return strings.Join(parts, "; ")
}

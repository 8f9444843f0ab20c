package main

import (
	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cluster"
	"github.com/clusterctl/clusterctl/internal/ui"
)

// printInstances prints instances as a table on stdout, or as JSON.
func printInstances(a *app, insts []cloud.Instance) error {
	format, _ := a.format()
	if format == ui.FormatJSON {
		return ui.PrintJSON(a.streams.SafeOut(), insts)
	}
	t := ui.NewTable("alias", "id", "state", "type", "private ip", "public ip", "lifecycle", "zone")
	for _, in := range insts {
		t.AddRow(in.Alias, in.ID, in.State, in.InstanceType, dash(in.PrivateIP), dash(in.PublicIP), string(in.Lifecycle), dash(in.Zone))
	}
	return t.Render(a.streams.SafeOut())
}

// aliasOf names the node an instance id belongs to, or the id itself.
func aliasOf(c cluster.Info, id string) string {
	for _, n := range c.Nodes {
		if n.ID == id {
			return n.Alias
		}
	}
	return id
}

package config

// PluginSpec declares a built-in plugin to the loader: the names a SETUP_CLASS may use for it and
// the parameters its [plugin] section may set. Declaring parameters here is what lets a typo in a
// [plugin] section fail at load time instead of after launch.
type PluginSpec struct {
	Name    string
	Summary string
	// Aliases are StarCluster class paths (e.g. starcluster.plugins.sge.SGEPlugin) that resolve
	// to this plugin; matching ignores case.
	Aliases []string
	Params  []Setting
	// Check, when set, checks the typed parameters beyond their types (a script plugin's
	// files exist) and returns problems by parameter name ("" for the section as a whole).
	Check func(params map[string]any) map[string]string
	// Scheduler, when set, says the entry configures that scheduler (a SCHEDULER value)
	// instead of running as a plugin: its parameters apply only to clusters of that scheduler.
	Scheduler string
}

// PluginCatalog resolves SETUP_CLASS values to built-in plugins. The plugins package provides
// the real one; the loader only needs lookups, so config does not import plugin code.
type PluginCatalog interface {
	// Lookup resolves a SETUP_CLASS value (a plugin name or an alias).
	Lookup(setupClass string) (PluginSpec, bool)
	// Names lists the built-in plugins for error messages.
	Names() []string
	// Unshipped recognizes a class path of one of StarCluster's own plugins that clusterctl
	// does not ship (hadoop.Hadoop), and names it, so the message does not call it
	// third-party.
	Unshipped(setupClass string) (string, bool)
}

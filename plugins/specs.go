package plugins

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/clusterctl/clusterctl/internal/config"
)

// builtinSpecs declares every built-in plugin: its name, the StarCluster class paths that mean it
// (the alias table the docs print), and its parameters.
func builtinSpecs() []config.PluginSpec {
	return []config.PluginSpec{
		{Name: "sge", Summary: "Grid Engine settings (SCHEDULER = sge, the default)",
			Aliases: []string{"sge.SGEPlugin"}, Scheduler: "sge",
			Params: []config.Setting{
				{Name: "master_is_exec_host", Type: config.Bool, Default: "true",
					Doc: "Run jobs on the master too; false removes it from the exec queue."},
				{Name: "slots_per_host", Type: config.Int,
					Doc: "Job slots per exec host; default: its CPU count."},
			}},
		{Name: "slurm", Summary: "Slurm settings (SCHEDULER = slurm)", Scheduler: "slurm",
			Params: []config.Setting{
				{Name: "master_is_compute_node", Type: config.Bool, Default: "true",
					Doc: "Run jobs on the master too; false leaves it the controller only."},
			}},
		{Name: "segway", Summary: "Segway genome-segmentation environment: profile, root profile, motd banner",
			Aliases: []string{"segway_plugin.Setup", "segway_plugin.SegwaySetup", "segway.Setup", "segway.SegwaySetup"},
			Params: []config.Setting{
				{Name: "segway_path", Type: config.String, Required: true, Example: "/opt/segway", Check: config.CheckAbsPath,
					Doc: "Where the software volume is mounted."},
				{Name: "stop_services", Type: config.List, Check: config.CheckUnitName,
					Doc: "Services to stop on every node to free memory (e.g. apache2, mysql)."},
			}},
		{Name: "pkginstaller", Summary: "Install distribution packages on every node, added nodes included",
			Aliases: []string{"pkginstaller.PackageInstaller"},
			Params: []config.Setting{
				{Name: "packages", Type: config.List, Required: true, Example: "htop, build-essential", Check: config.CheckDebianPackage,
					Doc: "Packages to install with apt."},
			}},
		{Name: "pypkginstaller", Summary: "Install Python packages with pip on every node",
			Aliases: []string{"pypkginstaller.PyPkgInstaller"},
			Params: []config.Setting{
				{Name: "packages", Type: config.List, Required: true, Example: "numpy, pandas", Check: config.CheckPipRequirement,
					Doc: "Packages to install."},
				{Name: "install_command", Type: config.String, Default: "pip install %s", Check: config.CheckPipCommand,
					Doc: "Command used, with %s replaced by the package names."},
			}},
		{Name: "users", Summary: "Create batch users with SSH keys",
			Aliases: []string{"users.CreateUsers"},
			Params: []config.Setting{
				{Name: "num_users", Type: config.Int, Doc: "Number of users user001, user002, ... to create."},
				{Name: "usernames", Type: config.List, Check: config.CheckUserName, Doc: "Names of users to create."},
				{Name: "download_keys", Type: config.Bool, Default: "false", Doc: "Copy their private keys to this machine."},
				{Name: "download_keys_dir", Type: config.Path, Default: "~/.clusterctl/user_keys", Doc: "Where downloaded keys go."},
			}},
		{Name: "ipcluster", Summary: "IPython parallel (ipyparallel): controller on the master, one engine per CPU on every node",
			Aliases: []string{"ipcluster.IPCluster"},
			Params: []config.Setting{
				{Name: "packer", Type: config.String, Default: "json", Choices: []string{"json", "pickle", "msgpack"},
					Doc: "Message serialization."},
				{Name: "enable_notebook", Type: config.Bool, Default: "false", Doc: "Also run a Jupyter server on the master."},
				{Name: "notebook_passwd", Type: config.String, Secret: true, Doc: "Password of the notebook server; random when unset."},
				{Name: "notebook_directory", Type: config.String, Check: config.CheckRelativeOrAbsPath, Doc: "Directory the notebook server serves."},
				{Name: "log_level", Type: config.String, Default: "INFO", Check: config.CheckWord, Doc: "Log level of controller and engines."},
			}},
		{Name: "ipclusterstop", Summary: "Stop the IPython controller and engines",
			Aliases: []string{"ipcluster.IPClusterStop"}},
		{Name: "ipclusterrestart", Summary: "Restart the IPython engines",
			Aliases: []string{"ipcluster.IPClusterRestartEngines"}},
		{Name: "xvfb", Summary: "A virtual X display (:1) on every node",
			Aliases: []string{"xvfb.XvfbSetup"}},
		{Name: "tmux", Summary: "A tmux session on the master with a window per node",
			Aliases: []string{"tmux.TmuxControlCenter"},
			Params: []config.Setting{
				{Name: "envname", Type: config.String, Default: "clusterctl", Check: config.CheckWord, Doc: "Name of the tmux session."},
			}},
		{Name: "mpi", Summary: "MPI host file for MPICH and Open MPI",
			Aliases: []string{"mpich2.MPICH2Setup", "mpich2"}},
		{Name: "condor", Summary: "HTCondor pool with the central manager on the master or CONDOR_HOST",
			Aliases: []string{"condor.CondorPlugin"},
			Params: []config.Setting{
				{Name: "condor_host", Type: config.String, Check: config.CheckHostName, Doc: "Central manager host; default: the master."},
			}},
		scriptSpec(),
	}
}

// scriptSpec declares the script plugin: executables of the user's at the plugin hooks.
func scriptSpec() config.PluginSpec {
	hookDoc := map[string]string{
		"run":            "Executable run at setup (start, restart, runplugin), as StarCluster's run().",
		"on_add_node":    "Executable run when nodes are added: on the master and on the new nodes (see WHERE).",
		"on_remove_node": "Executable run before nodes are removed: on the master and on the nodes leaving (see WHERE).",
		"on_restart":     "Executable run before the nodes reboot (restart).",
		"on_shutdown":    "Executable run before the cluster stops or is terminated.",
	}
	var params []config.Setting
	for _, h := range ScriptHooks() {
		params = append(params, config.Setting{Name: h, Type: config.Path, Doc: hookDoc[h]})
	}
	params = append(params,
		config.Setting{Name: "where", Type: config.String, Default: "all", Choices: []string{"master", "nodes", "all"},
			Doc: "Where the hooks run: the master, the worker nodes, or all."},
		config.Setting{Name: "run_as", Type: config.String, Default: "root", Choices: []string{"root", "user"},
			Doc: "Run the hooks as root or as the cluster user."},
		config.Setting{Name: "files", Type: config.PathList,
			Doc: "More files uploaded beside the hooks' executables (the hooks' working directory)."})
	return config.PluginSpec{Name: "script", Summary: "Your own executables at the plugin hooks: the way to bring a StarCluster plugin along",
		Params: params, Check: checkScriptParams}
}

// checkScriptParams: a script plugin needs at least one hook, and every file it names must
// exist here as a regular file (it is read and uploaded at each hook).
func checkScriptParams(params map[string]any) map[string]string {
	issues := map[string]string{}
	p := Params(params)
	hooks := 0
	for _, h := range ScriptHooks() {
		f := p.String(h, "")
		if f == "" {
			continue
		}
		hooks++
		if msg := regularFile(f); msg != "" {
			issues[h] = strings.ToUpper(h) + " " + msg
		}
	}
	if hooks == 0 {
		issues[""] = "a script plugin needs at least one of RUN, ON_ADD_NODE, ON_REMOVE_NODE, ON_RESTART, ON_SHUTDOWN"
	}
	for _, f := range p.List("files") {
		if msg := regularFile(f); msg != "" {
			issues["files"] = "FILES item " + msg
		}
	}
	return issues
}

// regularFile says what is wrong with a file a plugin needs, or "".
func regularFile(path string) string {
	st, err := os.Stat(path)
	switch {
	case err != nil:
		return fmt.Sprintf("%s cannot be read: %v", path, errors.Unwrap(err))
	case !st.Mode().IsRegular():
		return path + " is not a regular file"
	}
	return ""
}

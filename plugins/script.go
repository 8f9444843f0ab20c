package plugins

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/setup"
)

// ScriptHooks are the hooks a script plugin can run, as its keys name them: StarCluster's
// plugin methods, so a ported plugin keeps its shape.
func ScriptHooks() []string {
	return []string{"run", "on_add_node", "on_remove_node", "on_restart", "on_shutdown"}
}

// scriptDir is where a script plugin's files live on every node: below a root-owned directory,
// so root never runs anything a cluster user could have changed.
const scriptDir = "/var/lib/clusterctl/plugins"

// scriptPlugin runs executables the user provides at the plugin hooks: the way to bring a
// custom StarCluster (Python) plugin along. Each hook's file is uploaded over SFTP to the nodes
// it runs on, with FILES beside it, and run there as root or as the cluster user with the
// cluster's facts in its environment (see scriptEnv).
type scriptPlugin struct {
	name   string
	hooks  map[string]string // hook -> local executable
	files  []string          // more local files uploaded beside the hooks
	where  string            // master, nodes or all
	asUser bool              // run as the cluster user instead of root
}

func newScript(name string, p Params) *scriptPlugin {
	s := &scriptPlugin{name: name, hooks: map[string]string{}, files: p.List("files"),
		where: p.String("where", "all"), asUser: p.String("run_as", "root") == "user"}
	for _, h := range ScriptHooks() {
		if f := p.String(h, ""); f != "" {
			s.hooks[h] = f
		}
	}
	return s
}

func (s *scriptPlugin) Name() string { return s.name }

// Run runs the RUN script on the nodes WHERE names, at start, restart and runplugin.
func (s *scriptPlugin) Run(ctx context.Context, c *setup.Cluster) error {
	return s.hook(ctx, c, "run", s.targets(c, nil), nil)
}

// OnAddNode runs ON_ADD_NODE on the master (unless WHERE = nodes) and on the new nodes (unless
// WHERE = master): the master can add them to a service's configuration, each new node can
// install its part. CLUSTERCTL_HOOK_NODES names the new nodes.
func (s *scriptPlugin) OnAddNode(ctx context.Context, c *setup.Cluster, nodes []*setup.Node) error {
	return s.hook(ctx, c, "on_add_node", s.targets(c, nodes), nodes)
}

// OnRemoveNode runs ON_REMOVE_NODE, before the nodes go, on the master and on the nodes being
// removed that can still be reached, as OnAddNode does.
func (s *scriptPlugin) OnRemoveNode(ctx context.Context, c *setup.Cluster, nodes []*setup.Node) error {
	return s.hook(ctx, c, "on_remove_node", s.targets(c, nodes), nodes)
}

// OnRestart runs ON_RESTART before the nodes reboot.
func (s *scriptPlugin) OnRestart(ctx context.Context, c *setup.Cluster) error {
	return s.hook(ctx, c, "on_restart", s.targets(c, nil), nil)
}

// OnShutdown runs ON_SHUTDOWN before the cluster stops or is terminated.
func (s *scriptPlugin) OnShutdown(ctx context.Context, c *setup.Cluster) error {
	return s.hook(ctx, c, "on_shutdown", s.targets(c, nil), nil)
}

// targets are the nodes a hook runs on: for the whole-cluster hooks (changed nil) the master
// and/or the workers, for add and remove the master and/or the changed nodes. Nodes that
// cannot be reached (a vanished spot instance) are left out.
func (s *scriptPlugin) targets(c *setup.Cluster, changed []*setup.Node) []*setup.Node {
	var out []*setup.Node
	if m := c.Master(); m != nil && s.where != "nodes" {
		out = append(out, m)
	}
	if s.where == "master" {
		return out
	}
	workers := c.Workers()
	if changed != nil {
		workers = changed
	}
	for _, n := range workers {
		if !n.IsMaster() && n.Target.Addr != "" {
			out = append(out, n)
		}
	}
	return out
}

// hook uploads and runs one hook's script on the target nodes at once, as one status line
// showing the scripts' latest output; the first failure names the node and ends with its
// output's tail.
func (s *scriptPlugin) hook(ctx context.Context, c *setup.Cluster, hook string, targets []*setup.Node, changed []*setup.Node) error {
	local, ok := s.hooks[hook]
	if !ok || len(targets) == 0 {
		return nil
	}
	files, err := s.readFiles(hook, local)
	if err != nil {
		return err
	}
	dir := path.Join(scriptDir, s.name)
	name := fmt.Sprintf("%s: %s on %s", strings.ToUpper(hook), filepath.Base(local), plural(len(targets), "node"))
	return c.ForEachShown(ctx, name, targets, func(ctx context.Context, n *setup.Node, show func(string)) error {
		env, err := scriptEnv(c, s.name, hook, dir, n, changed)
		if err != nil {
			return err
		}
		if err := s.upload(ctx, c, n, dir, files); err != nil {
			return err
		}
		cmd, err := s.command(c, dir, hook, env)
		if err != nil {
			return err
		}
		line := func(line string) {
			show(n.Alias + ": " + line)
			if c.Log != nil {
				c.Log.Debug("plugin output", "plugin", s.name, "hook", hook, "node", n.Alias, "line", line)
			}
		}
		stdout, stderr := &lineWriter{fn: line}, &lineWriter{fn: line}
		client, err := c.Client(ctx, n)
		if err != nil {
			return err
		}
		_, err = client.RunWith(ctx, cmd, remote.RunOpts{Sudo: true, Stdout: stdout, Stderr: stderr})
		stdout.Flush()
		stderr.Flush()
		var re *remote.RemoteError
		if errors.As(err, &re) {
			return &ScriptError{Plugin: s.name, Hook: hook, Script: local, Node: n.Alias, Status: re.ExitStatus, Tail: re.Tail}
		}
		return err
	})
}

// scriptFile is a file to upload: its local content and its name on the node.
type scriptFile struct {
	name string
	data []byte
	mode os.FileMode
}

// fileNameRE is the shape of a name a file gets on the nodes.
var fileNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// readFiles reads the hook's executable (uploaded as the hook's name) and FILES (under their
// own names) from this machine.
func (s *scriptPlugin) readFiles(hook, local string) ([]scriptFile, error) {
	data, err := os.ReadFile(local)
	if err != nil {
		return nil, fmt.Errorf("%s script: %w (script plugins read their files from this machine)", strings.ToUpper(hook), err)
	}
	files := []scriptFile{{name: hook, data: data, mode: 0o755}}
	for _, f := range s.files {
		base := filepath.Base(f)
		if !fileNameRE.MatchString(base) || base == hook {
			return nil, fmt.Errorf("FILES item %s: its name must be letters, digits, '.', '_' or '-' and not a hook's", f)
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("FILES item: %w", err)
		}
		mode := os.FileMode(0o644)
		if st, err := os.Stat(f); err == nil && st.Mode()&0o111 != 0 {
			mode = 0o755
		}
		files = append(files, scriptFile{name: base, data: data, mode: mode})
	}
	return files, nil
}

// upload places the files in the plugin's directory on a node, owned by root and readable by
// all (the cluster user runs them with RUN_AS = user, but cannot change them).
func (s *scriptPlugin) upload(ctx context.Context, c *setup.Cluster, n *setup.Node, dir string, files []scriptFile) error {
	if _, err := c.Sudo(ctx, n, remote.QuoteArgs("install", "-d", "-m", "0755", "-o", "root", "-g", "root", scriptDir, dir)); err != nil {
		return err
	}
	client, err := c.Client(ctx, n)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := client.Upload(ctx, strings.NewReader(string(f.data)), path.Join(dir, f.name),
			remote.FileOpts{Mode: f.mode, Owner: "root:root", Sudo: true, Size: int64(len(f.data))}); err != nil {
			return err
		}
	}
	return nil
}

// command is the root shell line that runs a hook: in the plugin's directory, with a clean
// environment holding the cluster's facts, after /etc/profile (as StarCluster's commands
// ran), as root or, with RUN_AS = user, as the cluster user through runuser.
func (s *scriptPlugin) command(c *setup.Cluster, dir, hook string, env []string) (string, error) {
	user, home := "root", "/root"
	if s.asUser {
		if !validUserName.MatchString(c.User) {
			return "", fmt.Errorf("cluster user %q is not a valid user name", c.User)
		}
		user, home = c.User, "/home/"+c.User
	}
	vars := append([]string{"HOME=" + home, "USER=" + user, "LOGNAME=" + user,
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, env...)
	run := append([]string{"env", "-i"}, vars...)
	run = append(run, "sh", "-c", `. /etc/profile >/dev/null 2>&1; exec "$0"`, "./"+hook)
	line := remote.QuoteArgs(run...)
	if s.asUser {
		line = remote.QuoteArgs("runuser", "-u", user, "--") + " " + line
	}
	return "cd " + remote.Quote(dir) + " && " + line, nil
}

// ScriptError is a script plugin's hook that failed on a node: which, where, with what status,
// and the end of its output.
type ScriptError struct {
	Plugin, Hook, Script, Node string
	Status                     int
	Tail                       string
}

func (e *ScriptError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s) exited with status %d on %s", strings.ToUpper(e.Hook), e.Script, e.Status, e.Node)
	tail := strings.TrimRight(e.Tail, "\n")
	if tail == "" {
		b.WriteString(" (no output)")
	} else {
		b.WriteString("; its output ended with:")
		for _, line := range strings.Split(tail, "\n") {
			b.WriteString("\n  | " + strings.TrimRight(line, "\r"))
		}
	}
	return b.String()
}

// lineWriter calls fn with every complete line written to it (one stream: stdout and stderr
// get one each, so their partial lines never mix).
type lineWriter struct {
	fn  func(string)
	buf []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := strings.IndexByte(string(w.buf), '\n')
		if i < 0 {
			return len(p), nil
		}
		w.fn(strings.TrimRight(string(w.buf[:i]), "\r"))
		w.buf = w.buf[i+1:]
	}
}

// Flush passes on a last line without a newline.
func (w *lineWriter) Flush() {
	if len(w.buf) > 0 {
		w.fn(string(w.buf))
		w.buf = nil
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

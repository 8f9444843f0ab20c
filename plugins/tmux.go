package plugins

import (
	"context"
	"fmt"
	"strings"

	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/setup"
)

// tmux keeps a control centre on the master: a tmux session of the cluster user, named envname,
// with one window per node (named after its alias) logged in to that node over SSH, so
// `sshmaster -u USER` then `tmux attach -t ENVNAME` reaches every node. The SSH logins rely on
// the cluster user's passwordless SSH, which setup provides. Each window runs a shell that was
// told to ssh, so a window outlives its SSH session. Only missing windows are created, so a
// rerun leaves the existing ones, and what runs in them, alone.
type tmux struct {
	setup.Hooks
	session string
	err     error // an unusable session name, reported by every hook
}

func newTmux(p Params) *tmux {
	s := p.String("envname", "clusterctl")
	var err error
	if s == "" || strings.ContainsAny(s, ":. \t\n'\"") {
		err = fmt.Errorf("envname %q is not a usable tmux session name (no spaces, quotes, ':' or '.')", s)
	}
	return &tmux{session: s, err: err}
}

// Name is the plugin's catalog name.
func (t *tmux) Name() string { return "tmux" }

// Run creates the session and a window for every node that has none.
func (t *tmux) Run(ctx context.Context, c *setup.Cluster) error {
	return t.onMaster(ctx, c, "tmux session "+t.session, tmuxAddScript(c.User, t.session, nodeAliases(c.Nodes)))
}

// OnAddNode adds windows for new nodes.
func (t *tmux) OnAddNode(ctx context.Context, c *setup.Cluster, nodes []*setup.Node) error {
	return t.onMaster(ctx, c, "tmux windows", tmuxAddScript(c.User, t.session, nodeAliases(nodes)))
}

// OnRemoveNode closes the windows of nodes about to go.
func (t *tmux) OnRemoveNode(ctx context.Context, c *setup.Cluster, nodes []*setup.Node) error {
	return t.onMaster(ctx, c, "tmux windows", tmuxRemoveScript(c.User, t.session, nodeAliases(nodes)))
}

func (t *tmux) onMaster(ctx context.Context, c *setup.Cluster, step, script string) error {
	if t.err != nil {
		return t.err
	}
	m, err := masterOf(c)
	if err != nil {
		return err
	}
	return c.ForEach(ctx, step, []*setup.Node{m}, func(ctx context.Context, n *setup.Node) error {
		_, err := c.Sudo(ctx, n, script)
		return err
	})
}

// nodeAliases lists the aliases of nodes, master first as the cluster lists them.
func nodeAliases(nodes []*setup.Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.Alias
	}
	return out
}

// tmuxPrelude defines t (tmux as the cluster user, whose server and socket are the user's own)
// and idx (the indexes of the windows named $1). Windows are addressed by index, because
// tmux would read a dot in a name as a pane separator.
func tmuxPrelude(user, session string) string {
	return fmt.Sprintf(`set -e
u=%s
s=%s
h=$(getent passwd "$u" | cut -d: -f6)
t() { runuser -u "$u" -- tmux "$@"; }
idx() { t list-windows -t "=$s" -F '#{window_index} #{window_name}' 2>/dev/null | awk -v n="$1" '$2 == n { print $1 }'; }
`, remote.Quote(user), remote.Quote(session))
}

// tmuxAddScript creates the session if it is missing and, for each alias without a window, a
// window in the user's home that runs ssh ALIAS.
func tmuxAddScript(user, session string, aliases []string) string {
	var b strings.Builder
	b.WriteString(tmuxPrelude(user, session))
	b.WriteString(`win() {
  if ! t has-session -t "=$s" 2>/dev/null; then t new-session -d -s "$s" -n "$1" -c "$h" -x 200 -y 50
  elif [ -n "$(idx "$1")" ]; then return 0
  else t new-window -d -t "=$s:" -n "$1" -c "$h"
  fi
  t send-keys -t "=$s:$(idx "$1" | head -n 1)" "ssh $1" Enter
}
`)
	for _, a := range aliases {
		fmt.Fprintf(&b, "win %s\n", remote.Quote(a))
	}
	return b.String()
}

// tmuxRemoveScript closes every window named after one of aliases (the last one closing ends
// the session); missing windows and a missing session are fine.
func tmuxRemoveScript(user, session string, aliases []string) string {
	var b strings.Builder
	b.WriteString(tmuxPrelude(user, session))
	b.WriteString(`unwin() {
  for i in $(idx "$1" | sort -rn); do t kill-window -t "=$s:$i"; done
}
`)
	for _, a := range aliases {
		fmt.Fprintf(&b, "unwin %s\n", remote.Quote(a))
	}
	return b.String()
}

package cluster

import (
	"context"
	"sync"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// SSH states listclusters -s shows per node.
const (
	SSHUp   = "up"
	SSHDown = "down"
)

// sshProbeTimeout bounds one node's SSH check: a listing must not hang on a dead node.
const sshProbeTimeout = 5 * time.Second

// SSHStatus tries an SSH login (host key verified) on every running node of a cluster at once
// and reports each alias as SSHUp or SSHDown; nodes that are not running are left out.
func (e *Engine) SSHStatus(ctx context.Context, tag string, keyFile func(string) string) (map[string]string, error) {
	acc, err := e.Access(ctx, tag, keyFile)
	if err != nil {
		return nil, err
	}
	opts := acc.Options()
	opts.DialTimeout, opts.HandshakeTimeout = sshProbeTimeout, sshProbeTimeout
	var running []cloud.Instance
	for _, in := range acc.Instances {
		if in.State == cloud.StateRunning {
			running = append(running, in)
		}
	}
	var mu sync.Mutex
	out := make(map[string]string, len(running))
	_ = remote.FanOut(ctx, running, func(in cloud.Instance) string { return in.Alias }, remote.FanOutOpts{},
		func(ctx context.Context, in cloud.Instance) error {
			state := SSHDown
			if t, err := acc.Target(in, ""); err == nil {
				if c, err := remote.Connect(ctx, t, opts); err == nil {
					state = SSHUp
					_ = c.Close()
				} else {
					e.log().Debug("ssh check failed", "node", in.Alias, "error", err.Error())
				}
			}
			mu.Lock()
			out[in.Alias] = state
			mu.Unlock()
			return nil
		})
	return out, ctx.Err()
}

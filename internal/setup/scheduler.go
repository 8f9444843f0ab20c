package setup

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/scheduler"
)

// schedView is the cluster as its scheduler sees it (scheduler.Cluster): setup's nodes,
// connections and status lines, without the scheduler knowing setup.
type schedView struct{ c *Cluster }

var _ scheduler.Cluster = schedView{}

// SchedulerView is the cluster as a scheduler works on it.
func (c *Cluster) SchedulerView() scheduler.Cluster { return schedView{c} }

func (v schedView) Tag() string { return v.c.Tag }

func (v schedView) Nodes() []scheduler.Node { return schedNodes(v.c.Nodes) }

func (v schedView) User() scheduler.User {
	return scheduler.User{Name: v.c.User, UID: v.c.UID, GID: v.c.GID}
}

func (v schedView) Shell(host string) scheduler.Shell {
	return scheduler.ShellFunc(func(ctx context.Context, script string) (string, error) {
		n, err := v.node(host)
		if err != nil {
			return "", err
		}
		res, err := v.c.Sudo(ctx, n, script)
		return res.Stdout, err
	})
}

func (v schedView) WriteFile(ctx context.Context, host, path string, data []byte, mode fs.FileMode, owner string) error {
	n, err := v.node(host)
	if err != nil {
		return err
	}
	client, err := v.c.Client(ctx, n)
	if err != nil {
		return err
	}
	return client.Upload(ctx, bytes.NewReader(data), path, remote.FileOpts{Mode: mode, Owner: owner, Sudo: true, Size: int64(len(data))})
}

func (v schedView) ForEach(ctx context.Context, name string, nodes []scheduler.Node, fn func(context.Context, scheduler.Node) error) error {
	var ns []*Node
	byName := map[string]scheduler.Node{}
	for _, sn := range nodes {
		n, err := v.node(sn.Name)
		if err != nil {
			return err
		}
		ns = append(ns, n)
		byName[sn.Name] = sn
	}
	return v.c.ForEach(ctx, name, ns, func(ctx context.Context, n *Node) error { return fn(ctx, byName[n.Alias]) })
}

func (v schedView) Step(ctx context.Context, name string, fn func(context.Context) error) error {
	return v.c.Step(ctx, name, fn)
}

// node finds a node of the cluster by alias.
func (v schedView) node(alias string) (*Node, error) {
	for _, n := range v.c.Nodes {
		if n.Alias == alias {
			return n, nil
		}
	}
	return nil, fmt.Errorf("no node %s in cluster %s", alias, v.c.Tag)
}

// schedNodes describes nodes for the scheduler.
func schedNodes(nodes []*Node) []scheduler.Node {
	out := make([]scheduler.Node, len(nodes))
	for i, n := range nodes {
		out[i] = scheduler.Node{Name: n.Alias, Master: n.IsMaster(), Running: n.State == cloud.StateRunning,
			CPUs: n.CPUs, Memory: n.Memory}
	}
	return out
}

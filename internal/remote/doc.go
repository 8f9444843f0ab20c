// Package remote is how every later step of clusterctl talks to cluster nodes: SSH connections
// authenticated with the cluster key, host keys pinned per cluster in an OpenSSH known_hosts
// file, commands with captured output and readable failures, atomic SFTP transfers, a bounded
// fan-out over many nodes, and the argument list that hands an interactive session to the
// system ssh client.
//
// The usual flow is one Pool per command invocation:
//
//	pool := remote.NewPool(remote.Options{KeyFile: key, KnownHosts: remote.NewKnownHosts(file)})
//	defer pool.Close()
//	err := remote.FanOut(ctx, nodes, nodeName, remote.FanOutOpts{}, func(ctx context.Context, n Node) error {
//		c, err := pool.Get(ctx, n.Target())
//		if err != nil {
//			return err
//		}
//		_, err = c.RunWith(ctx, "systemctl restart slurmd", remote.RunOpts{Sudo: true})
//		return err
//	})
//
// Nodes without a public address carry a Jump target (the master); the pool reuses the
// master's connection and opens a direct-tcpip channel through it, verifying both host keys.
package remote

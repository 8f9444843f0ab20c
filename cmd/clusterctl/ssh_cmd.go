package main

import (
	"context"
	"errors"
	"os/exec"
	"strings"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cloud/ec2"
	"github.com/clusterctl/clusterctl/internal/cluster"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// sshOptions are the flags shared by sshmaster, sshnode and sshinstance.
type sshOptions struct {
	user         string
	forwardX11   bool
	forwardAgent bool
	tty          bool
}

func addSSHFlags(cmd *cobra.Command, o *sshOptions, tty bool) {
	f := cmd.Flags()
	f.StringVarP(&o.user, "user", "u", "", "log in as this user (default: the image's login user)")
	f.BoolVarP(&o.forwardX11, "forward-x11", "X", false, "forward X11")
	f.BoolVarP(&o.forwardAgent, "forward-agent", "A", false, "forward the SSH agent")
	if tty {
		f.BoolVarP(&o.tty, "pseudo-tty", "t", false, "force a pseudo-terminal (for interactive commands)")
	}
	f.SetInterspersed(false) // everything after the node is the remote command
}

// keyFiles maps key pair names to local key files from the config, when there is one.
func (a *app) keyFiles(ctx context.Context) func(string) string {
	cfg, _ := a.loadConfig(ctx)
	return func(name string) string {
		if cfg == nil {
			return ""
		}
		if k, ok := cfg.Keys[name]; ok {
			return k.Location
		}
		return ""
	}
}

// access loads a cluster for SSH work.
func (a *app) access(ctx context.Context, tag string) (*cluster.Access, error) {
	p, err := a.providerFor(ctx, tag)
	if err != nil {
		return nil, err
	}
	return a.engine(p).Access(ctx, tag, a.keyFiles(ctx))
}

// shellTo opens an interactive session or runs a command on a node: through the system ssh
// client when there is one (with the cluster's pinned known_hosts and key), else through the
// built-in client. A command's exit status becomes clusterctl's.
func (a *app) shellTo(ctx context.Context, t remote.Target, opts remote.Options, o sshOptions, command []string) error {
	line := strings.Join(command, " ")
	var code int
	if sshPath, err := exec.LookPath("ssh"); err == nil && !a.builtinSSH {
		args := remote.SSHCommandArgs(t, remote.SSHArgsOpts{KeyFile: opts.KeyFile, KnownHostsFile: opts.KnownHosts.Path(),
			ForwardX11: o.forwardX11, ForwardAgent: o.forwardAgent, ForceTTY: o.tty, Command: line})
		a.logger.Debug("running ssh", "args", strings.Join(args, " "))
		c := exec.CommandContext(ctx, sshPath, args...)
		c.Stdin, c.Stdout, c.Stderr = a.streams.In, a.streams.Out, a.streams.ErrOut
		err := c.Run()
		var exitErr *exec.ExitError
		switch {
		case errors.As(err, &exitErr):
			code = exitErr.ExitCode()
		case err != nil:
			return err
		}
	} else {
		client, err := remote.Connect(ctx, t, opts)
		if err != nil {
			return err
		}
		defer client.Close()
		code, err = client.Shell(ctx, a.streams.In, a.streams.Out, a.streams.ErrOut, remote.ShellOpts{Command: line, ForcePTY: o.tty})
		if err != nil {
			return err
		}
	}
	if code != 0 {
		return &exitStatusError{code: code}
	}
	return nil
}

func newSSHMasterCmd(a *app) *cobra.Command {
	var o sshOptions
	cmd := &cobra.Command{
		Use:     "sshmaster TAG [COMMAND...]",
		Aliases: []string{"sm"},
		Short:   "Log in to a cluster's master, or run a command there",
		Long: heredoc.Doc(`
			Open a shell on the cluster's master, or run COMMAND there and exit with its status.
			The host key is checked against the key clusterctl pinned at launch, so the first
			connection is verified too. The system ssh client is used when there is one.`),
		Example: heredoc.Doc(`
			clusterctl sshmaster mycluster
			clusterctl sshmaster -u clusteruser mycluster
			clusterctl sshmaster mycluster uptime`),
		Args:              minArgs(1, "the cluster TAG"),
		ValidArgsFunction: completeClusters(a),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.sshMaster(cmd.Context(), args[0], o, args[1:])
		},
	}
	addSSHFlags(cmd, &o, true)
	return cmd
}

// sshMaster opens a shell on a cluster's master, or runs command there.
func (a *app) sshMaster(ctx context.Context, tag string, o sshOptions, command []string) error {
	acc, err := a.access(ctx, tag)
	if err != nil {
		return err
	}
	m, err := acc.Master()
	if err != nil {
		return err
	}
	t, err := acc.Target(m, o.user)
	if err != nil {
		return err
	}
	return a.shellTo(ctx, t, acc.Options(), o, command)
}

// loginMaster logs in to a cluster's master (start -l), as sshmaster TAG does.
func (a *app) loginMaster(ctx context.Context, tag string) error {
	return a.sshMaster(ctx, tag, sshOptions{}, nil)
}

func newSSHNodeCmd(a *app) *cobra.Command {
	var o sshOptions
	cmd := &cobra.Command{
		Use:     "sshnode TAG NODE [COMMAND...]",
		Aliases: []string{"sn"},
		Short:   "Log in to a cluster node, or run a command there",
		Long: heredoc.Doc(`
			Open a shell on one node of the cluster, or run COMMAND there and exit with its
			status. NODE is an alias (node001), a number (1 for node001, 0 for the master), an
			instance id or an address. Nodes without a public address are reached through the
			master automatically.`),
		Example: heredoc.Doc(`
			clusterctl sshnode mycluster node001
			clusterctl sshnode mycluster 2 uptime`),
		Args:              minArgs(2, "the cluster TAG and a NODE"),
		ValidArgsFunction: completeClusters(a),
		RunE: func(cmd *cobra.Command, args []string) error {
			acc, err := a.access(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			in, err := acc.Find(args[1])
			if err != nil {
				return &notFoundError{msg: err.Error()}
			}
			t, err := acc.Target(in, o.user)
			if err != nil {
				return err
			}
			return a.shellTo(cmd.Context(), t, acc.Options(), o, args[2:])
		},
	}
	addSSHFlags(cmd, &o, true)
	return cmd
}

func newSSHInstanceCmd(a *app) *cobra.Command {
	var o sshOptions
	var keyLocation string
	var tofu bool
	cmd := &cobra.Command{
		Use:     "sshinstance INSTANCE_ID [COMMAND...]",
		Aliases: []string{"si"},
		Short:   "Log in to any EC2 instance, or run a command there",
		Long: heredoc.Doc(`
			Open a shell on any instance of the region by id. For an instance of a clusterctl
			cluster, its pinned host key is checked. Any other instance's host key is unknown:
			--trust-on-first-use accepts and pins the key it offers on first contact (and says
			so); without it the connection is refused.`),
		Example: heredoc.Doc(`
			clusterctl sshinstance i-0123456789abcdef0
			clusterctl sshinstance -K ~/.ssh/other.pem --trust-on-first-use i-0fedcba9876543210 uptime`),
		Args: minArgs(1, "an INSTANCE_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			p, in, err := a.findInstance(ctx, args[0])
			if err != nil {
				return err
			}
			opts, t, err := a.instanceAccess(ctx, p, in, o.user, keyLocation, tofu)
			if err != nil {
				return err
			}
			return a.shellTo(ctx, t, opts, o, args[1:])
		},
	}
	addSSHFlags(cmd, &o, false)
	cmd.Flags().StringVarP(&keyLocation, "key-location", "K", "", "private key file (default: KEY_LOCATION of the instance's key pair)")
	cmd.Flags().BoolVar(&tofu, "trust-on-first-use", false, "accept and pin an unknown host key on first contact")
	return cmd
}

// instanceAccess builds the target and options for one instance: the cluster's own when it
// belongs to one, else a known_hosts of its own with trust on first use only when asked.
func (a *app) instanceAccess(ctx context.Context, p cloud.Provider, in cloud.Instance, user, keyLocation string, tofu bool) (remote.Options, remote.Target, error) {
	if in.Cluster != "" {
		acc, err := a.engine(p).Access(ctx, in.Cluster, a.keyFiles(ctx))
		if err == nil {
			t, err := acc.Target(in, user)
			opts := acc.Options()
			if keyLocation != "" {
				opts.KeyFile = a.env.ExpandPath(keyLocation)
			}
			return opts, t, err
		}
	}
	key := a.keyFiles(ctx)(in.KeyName)
	if keyLocation != "" {
		key = a.env.ExpandPath(keyLocation)
	}
	if key == "" {
		return remote.Options{}, remote.Target{}, usageErrorf("no [key " + in.KeyName + "] section in the config for this instance's key pair; pass -K KEYFILE")
	}
	if user == "" {
		user = p.Capabilities().DefaultLoginUser
		if g, ok := p.(cloud.LoginGuesser); ok && in.ImageID != "" {
			if guessed, err := g.GuessLoginUser(ctx, in.ImageID); err == nil {
				user = guessed
			}
		}
	}
	kh := remote.NewKnownHosts(a.env.Home + "/.clusterctl/known_hosts/_instances")
	opts := remote.Options{KeyFile: key, KnownHosts: kh, TrustOnFirstUse: tofu, OnPin: func(n remote.PinNotice) {
		a.streams.Status().Warnf("trusted %s's host key on first use (%s %s), pinned in %s", in.ID, n.KeyType, n.Fingerprint, n.File)
	}}
	if tofu {
		if err := pinOnFirstUse(ctx, opts, in, user); err != nil {
			return opts, remote.Target{}, err
		}
	}
	return opts, remote.Target{Name: in.ID, Addr: in.Addr(), User: user}, nil
}

// pinOnFirstUse connects once with trust on first use so the key is pinned before the system
// ssh client (which is strict) connects.
func pinOnFirstUse(ctx context.Context, opts remote.Options, in cloud.Instance, user string) error {
	c, err := remote.Connect(ctx, remote.Target{Name: in.ID, Addr: in.Addr(), User: user}, opts)
	if err != nil {
		return err
	}
	return c.Close()
}

// findInstance finds a running instance of the region by id (sshinstance, ebsimage --scrub).
func (a *app) findInstance(ctx context.Context, id string) (*ec2.Provider, cloud.Instance, error) {
	p, err := a.ec2Only(ctx)
	if err != nil {
		return nil, cloud.Instance{}, err
	}
	all, err := p.AllInstances(ctx, false)
	if err != nil {
		return nil, cloud.Instance{}, err
	}
	for _, in := range all {
		if in.ID == id {
			return p, in, nil
		}
	}
	return nil, cloud.Instance{}, &notFoundError{msg: "no running instance " + id + " in this region"}
}

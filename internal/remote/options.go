package remote

import (
	"context"
	"net"
	"time"
)

// Defaults applied by Options.withDefaults. They are tuned for EC2 nodes reached over the
// internet: long enough for a loaded instance to answer, short enough that a dead node is
// reported within a minute.
const (
	DefaultDialTimeout       = 10 * time.Second
	DefaultHandshakeTimeout  = 15 * time.Second
	DefaultKeepaliveInterval = 15 * time.Second
	DefaultKeepaliveMaxMiss  = 3
	DefaultMinBackoff        = 250 * time.Millisecond
	DefaultMaxBackoff        = 5 * time.Second
	// DefaultMaxSessions matches sshd's MaxSessions default of 10 sessions per connection.
	DefaultMaxSessions = 10
	// DefaultMaxForwards is how many nodes a Pool reaches through one connection to their jump
	// host: each is an open file of that connection's sshd process, which systemd limits to
	// 1024.
	DefaultMaxForwards = 500
)

// Options configure how connections are made. One Options value is usually shared by every
// connection of a cluster, since all nodes use the same key and known_hosts file.
type Options struct {
	// KeyFile is the path of the cluster's private key (RSA, ECDSA or ed25519, OpenSSH or PEM
	// format). When it is passphrase-protected, the matching key is taken from the ssh-agent
	// at SSH_AUTH_SOCK (or AgentSocket); the passphrase is never asked for.
	KeyFile string
	// AgentSocket overrides SSH_AUTH_SOCK for passphrase-protected keys.
	AgentSocket string

	// KnownHosts is the cluster's pinned host keys. Required: there is no way to connect
	// without host key verification.
	KnownHosts *KnownHosts
	// TrustOnFirstUse pins the key of a host that has no entry yet instead of refusing it.
	// Use it only right after creating the nodes, when no one else can have taken their
	// addresses; a host that already has a different pinned key is refused regardless.
	TrustOnFirstUse bool
	// OnPin is told about every key pinned through TrustOnFirstUse, so the CLI can say so.
	OnPin func(PinNotice)

	// DialTimeout bounds one TCP connect attempt (default DefaultDialTimeout).
	DialTimeout time.Duration
	// HandshakeTimeout bounds the SSH handshake and authentication after the TCP connect
	// (default DefaultHandshakeTimeout); it catches servers that accept and never speak.
	HandshakeTimeout time.Duration
	// ReadyTimeout is how long Connect keeps retrying transient failures (refused, timeouts,
	// no route, EOF during the handshake, authentication failure) while a node boots. Zero
	// means a single attempt.
	ReadyTimeout time.Duration
	// OnRetry, when set, is told about each failed attempt that will be retried, so a caller
	// can log why a node is not ready yet instead of staying silent for the whole wait.
	OnRetry func(t Target, attempt int, err error)
	// MinBackoff and MaxBackoff bound the exponential wait between attempts.
	MinBackoff time.Duration
	MaxBackoff time.Duration

	// KeepaliveInterval is how often keepalive@openssh.com is sent (default
	// DefaultKeepaliveInterval); negative disables keepalives.
	KeepaliveInterval time.Duration
	// KeepaliveMaxMissed is how many intervals may pass without a reply before the
	// connection is closed (default DefaultKeepaliveMaxMiss).
	KeepaliveMaxMissed int

	// MaxSessions bounds the sessions (commands, shells, the SFTP subsystem) open at once on
	// one connection (default DefaultMaxSessions). sshd refuses sessions beyond its
	// MaxSessions; callers past the bound wait for a free slot instead of failing.
	MaxSessions int

	// MaxForwards bounds the nodes a Pool reaches through one connection to a jump host
	// (default DefaultMaxForwards); more open further connections to it.
	MaxForwards int

	// Dial, when set, makes the connections to hosts dialled directly (not through a jump host)
	// instead of the system's TCP stack: the simulated network of internal/cloud/sim, which
	// runs the real client against thousands of in-process nodes. Such a dialer reaches nothing
	// outside the process, so DialAllowEnv does not apply to it.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Observe, when set, is told about every command that ran (Run, RunWith), with what it
	// returned, so the answers of real nodes can be recorded for the simulation.
	Observe func(Exchange)
}

// Exchange is one command as a node saw it and what came back.
type Exchange struct {
	Target Target
	// Command is the command as given to Run; Sudo says whether it ran through sudo.
	Command string
	Sudo    bool
	// Line is the command line as sent, the sudo wrapper included (ScriptOnStdin for a long
	// command, which went on its standard input).
	Line   string
	Result Result
	// Err is the run's error: a *RemoteError for a non-zero exit, else a connection problem.
	Err      error
	Duration time.Duration
}

// withDefaults returns a copy of o with zero durations replaced by the package defaults.
func (o Options) withDefaults() Options {
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	if o.KeepaliveInterval == 0 {
		o.KeepaliveInterval = DefaultKeepaliveInterval
	}
	if o.KeepaliveMaxMissed <= 0 {
		o.KeepaliveMaxMissed = DefaultKeepaliveMaxMiss
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = DefaultMaxSessions
	}
	return o
}

func (o Options) maxForwards() int {
	if o.MaxForwards > 0 {
		return o.MaxForwards
	}
	return DefaultMaxForwards
}

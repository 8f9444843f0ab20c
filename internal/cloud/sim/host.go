package sim

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// SSHD are the limits of a node's OpenSSH server that matter at scale, OpenSSH's defaults
// unless the node was configured otherwise.
type SSHD struct {
	// MaxStartups is sshd's start:rate:full: beyond start unauthenticated connections, new
	// ones are dropped with probability rate% rising linearly to 100% at full.
	MaxStartups [3]int
	// MaxSessions bounds the sessions open on one connection.
	MaxSessions int
	// NoFile is the open files a connection's sshd process may have (systemd starts sshd
	// with a soft limit of 1024); every connection it forwards holds one.
	NoFile int
}

// DefaultSSHD are OpenSSH's defaults under systemd.
var DefaultSSHD = SSHD{MaxStartups: [3]int{10, 30, 100}, MaxSessions: 10, NoFile: 1024}

// sshdReservedFiles are the files an sshd connection process holds before forwarding anything.
const sshdReservedFiles = 16

// Host is one simulated node: an SSH server answering as the recorded real nodes answered.
type Host struct {
	Alias     string
	Role      cloud.Role
	PrivateIP netip.Addr
	PublicIP  netip.Addr

	net      *Network
	cluster  *clusterKeys
	config   *ssh.ServerConfig
	answers  *Answers
	sshd     SSHD
	handlers sftp.Handlers
	up       atomic.Bool
	unauth   atomic.Int64

	mu       sync.Mutex
	runs     map[entryKey]int
	counters HostCounters
}

func (h *Host) addrs() []netip.Addr {
	var out []netip.Addr
	for _, a := range []netip.Addr{h.PrivateIP, h.PublicIP} {
		if a.IsValid() {
			out = append(out, a)
		}
	}
	return out
}

func (h *Host) tcpAddr() net.Addr {
	return net.TCPAddrFromAddrPort(netip.AddrPortFrom(h.PrivateIP, 22))
}

func (h *Host) listening() bool { return h.up.Load() }

// Counters returns the node's counts so far.
func (h *Host) Counters() HostCounters {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.counters
}

func (h *Host) count(f func(*HostCounters)) {
	h.mu.Lock()
	f(&h.counters)
	h.mu.Unlock()
}

// accept serves one incoming connection.
func (h *Host) accept(c net.Conn) { go h.serve(c) }

// serve runs the SSH protocol on c, dropping it first when MaxStartups says so.
func (h *Host) serve(c net.Conn) {
	defer c.Close()
	n := h.unauth.Add(1)
	h.net.peak(func(c *Counters) *int64 { return &c.PeakStartups }, n)
	if h.dropStartup(n) {
		h.unauth.Add(-1)
		h.net.add(func(c *Counters) *int64 { return &c.RefusedStartups }, 1)
		return
	}
	sconn, chans, reqs, err := ssh.NewServerConn(c, h.config)
	h.unauth.Add(-1)
	if err != nil {
		return
	}
	defer sconn.Close()
	go ssh.DiscardRequests(reqs) // keepalive@openssh.com gets "failure", as from sshd
	var sessions, forwards atomic.Int64
	var wg sync.WaitGroup
	defer wg.Wait()
	for nc := range chans {
		switch nc.ChannelType() {
		case "session":
			open := sessions.Add(1)
			if h.sshd.MaxSessions > 0 && open > int64(h.sshd.MaxSessions) {
				sessions.Add(-1)
				h.net.add(func(c *Counters) *int64 { return &c.RefusedSessions }, 1)
				_ = nc.Reject(ssh.Prohibited, "open failed")
				continue
			}
			h.net.peak(func(c *Counters) *int64 { return &c.PeakSessions }, open)
			ch, chReqs, err := nc.Accept()
			if err != nil {
				sessions.Add(-1)
				continue
			}
			h.net.add(func(c *Counters) *int64 { return &c.Sessions }, 1)
			h.count(func(c *HostCounters) { c.Sessions++ })
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer sessions.Add(-1)
				h.session(ch, chReqs)
			}()
		case "direct-tcpip":
			open := forwards.Add(1)
			if h.sshd.NoFile > 0 && open > int64(h.sshd.NoFile-sshdReservedFiles) {
				forwards.Add(-1)
				h.net.add(func(c *Counters) *int64 { return &c.RefusedForwards }, 1)
				_ = nc.Reject(ssh.ConnectionFailed, "open failed: Too many open files")
				continue
			}
			h.net.peak(func(c *Counters) *int64 { return &c.PeakForwards }, open)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer forwards.Add(-1)
				h.forward(nc)
			}()
		default:
			_ = nc.Reject(ssh.UnknownChannelType, "unsupported channel type")
		}
	}
}

// dropStartup decides as sshd's MaxStartups does whether the n-th unauthenticated connection
// is dropped.
func (h *Host) dropStartup(n int64) bool {
	start, rate, full := h.sshd.MaxStartups[0], h.sshd.MaxStartups[1], h.sshd.MaxStartups[2]
	switch {
	case start <= 0 || n <= int64(start):
		return false
	case n >= int64(full):
		return true
	}
	p := float64(rate) + float64(100-rate)*float64(n-int64(start))/float64(full-start)
	return rand.Float64()*100 < p
}

// forward connects a direct-tcpip channel to its destination over the cluster's network, as
// the master does for nodes reached through it.
func (h *Host) forward(nc ssh.NewChannel) {
	var req struct {
		Host     string
		Port     uint32
		OrigHost string
		OrigPort uint32
	}
	if err := ssh.Unmarshal(nc.ExtraData(), &req); err != nil {
		_ = nc.Reject(ssh.ConnectionFailed, "bad request")
		return
	}
	addr := net.JoinHostPort(req.Host, fmt.Sprint(req.Port))
	c, err := h.net.dialFrom(h, addr)
	if err != nil {
		_ = nc.Reject(ssh.ConnectionFailed, "connect failed: "+err.Error())
		return
	}
	defer c.Close()
	ch, reqs, err := nc.Accept()
	if err != nil {
		return
	}
	h.net.add(func(c *Counters) *int64 { return &c.JumpChannels }, 1)
	go ssh.DiscardRequests(reqs)
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(c, ch); c.Close(); done <- struct{}{} }()
	go func() { _, _ = io.Copy(ch, c); _ = ch.CloseWrite(); done <- struct{}{} }()
	<-done
	<-done
	ch.Close()
}

// session serves one session channel: a command answered from the recorded answers, or SFTP.
func (h *Host) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	closed := make(chan struct{})
	defer close(closed)
	started := false
	for req := range reqs {
		ok := false
		switch req.Type {
		case "env", "pty-req", "window-change":
			ok = true
		case "exec":
			var cmd struct{ Command string }
			if started || ssh.Unmarshal(req.Payload, &cmd) != nil {
				break
			}
			ok, started = true, true
			if req.WantReply {
				_ = req.Reply(true, nil)
			}
			go h.run(ch, cmd.Command, closed)
			continue
		case "subsystem":
			var sub struct{ Name string }
			if started || ssh.Unmarshal(req.Payload, &sub) != nil || sub.Name != "sftp" {
				break
			}
			ok, started = true, true
			if req.WantReply {
				_ = req.Reply(true, nil)
			}
			go h.serveSFTP(ch)
			continue
		}
		if req.WantReply {
			_ = req.Reply(ok, nil)
		}
	}
}

// serveSFTP serves the node's in-memory files.
func (h *Host) serveSFTP(ch ssh.Channel) {
	srv := sftp.NewRequestServer(ch, h.handlers, sftp.WithStartDirectory("/home/"+h.cluster.loginUser))
	_ = srv.Serve()
	srv.Close()
	sendExit(ch, 0)
	ch.Close()
}

// run answers a command as the recorded node did: after the recorded time, the recorded
// output and exit status. A command nobody recorded fails with status 127 and says so.
func (h *Host) run(ch ssh.Channel, line string, closed <-chan struct{}) {
	script, sudo := Unsudo(line)
	switch script {
	case remote.SFTPServerScript:
		h.serveSFTP(ch)
		return
	case remote.ScriptOnStdin:
		long, err := io.ReadAll(ch)
		if err != nil {
			return
		}
		script = string(long)
	default:
		// The command reads what it is given (root's key on its standard input) before it
		// ends, as on a real node: a client still sending would otherwise see the channel close.
		if _, err := io.Copy(io.Discard, ch); err != nil {
			return
		}
	}
	n := h.net.norm.get(script, h.cluster.tag)
	h.mu.Lock()
	k := entryKey{role: string(h.Role), sudo: sudo, command: n.text}
	occ := h.runs[k]
	h.runs[k]++
	h.counters.Commands++
	h.mu.Unlock()
	e, ok := h.answers.Lookup(string(h.Role), sudo, n.text, occ)
	if !ok {
		h.count(func(c *HostCounters) { c.Unanswered++ })
		h.net.missed(string(h.Role), sudo, n.text)
		_, _ = ch.Stderr().Write([]byte("clusterctl simulation: no recorded answer for this command on a " + string(h.Role) +
			"; record the answers again (go test ./internal/cloud/sim/scale -run TestRecordedAnswers -update)\n"))
		sendExit(ch, 127)
		ch.Close()
		return
	}
	if !h.net.wait(h.answers.Work(e, n.hosts), closed) {
		return
	}
	_, _ = io.Copy(ch, strings.NewReader(h.cluster.expand(e.Stdout)))
	_, _ = io.Copy(ch.Stderr(), strings.NewReader(h.cluster.expand(e.Stderr)))
	sendExit(ch, e.Exit)
	ch.Close()
}

func sendExit(ch ssh.Channel, status int) {
	_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(status)}))
}

// memFiles returns SFTP handlers over an in-memory tree holding the directories uploads go to.
func memFiles(loginUser string) sftp.Handlers {
	h := sftp.InMemHandler()
	for _, d := range []string{"/home", "/home/" + loginUser, "/tmp", "/root", "/etc"} {
		_ = h.FileCmd.Filecmd(sftp.NewRequest("Mkdir", d))
	}
	return h
}

// clusterKeys is what every node of a simulated cluster shares: the tag, the login user, and
// the key pair that answers stand for where the recorded node printed one (root's key).
type clusterKeys struct {
	tag       string
	loginUser string
	pem, pub  string
}

// expand puts the cluster's own values where the recorded answers hold placeholders.
func (k *clusterKeys) expand(s string) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	r := strings.NewReplacer(phPEM, strings.TrimSuffix(k.pem, "\n"), phKey, k.pub, phTag, k.tag)
	var b bytes.Buffer
	_, _ = r.WriteString(&b, s)
	return b.String()
}

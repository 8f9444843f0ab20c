package sshtest

import (
	"io"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/creack/pty"
	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// ptyRequest is the payload of a pty-req request (RFC 4254 6.2).
type ptyRequest struct {
	Term                      string
	Cols, Rows, Width, Height uint32
	Modes                     string
}

// windowChange is the payload of a window-change request (RFC 4254 6.7).
type windowChange struct {
	Cols, Rows, Width, Height uint32
}

// running is the process (or SFTP server) a session started.
type running struct {
	signal func(syscall.Signal)
	resize func(cols, rows uint32)
	// finish waits for the end and reports it to the client; it runs only after the request
	// that started it was answered, or a fast command's exit could overtake the reply.
	finish func()
	done   chan struct{}
}

// signals maps SSH signal names to the local signals they deliver.
func signals() map[string]syscall.Signal {
	return map[string]syscall.Signal{"TERM": syscall.SIGTERM, "KILL": syscall.SIGKILL, "INT": syscall.SIGINT,
		"HUP": syscall.SIGHUP, "QUIT": syscall.SIGQUIT, "USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2,
		"PIPE": syscall.SIGPIPE, "ALRM": syscall.SIGALRM, "ABRT": syscall.SIGABRT}
}

// handleSession serves one session channel until the client closes it; a process still
// running then is killed with its whole process group.
func (s *Server) handleSession(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	var (
		env  []string
		pr   *ptyRequest
		proc *running
	)
	for req := range reqs {
		ok := false
		switch req.Type {
		case "env":
			var kv struct{ Name, Value string }
			if ssh.Unmarshal(req.Payload, &kv) == nil {
				env, ok = append(env, kv.Name+"="+kv.Value), true
			}
		case "pty-req":
			pr = &ptyRequest{}
			ok = ssh.Unmarshal(req.Payload, pr) == nil
		case "window-change":
			var wc windowChange
			if ssh.Unmarshal(req.Payload, &wc) == nil {
				ok = true
				if s.cfg.OnWindowChange != nil {
					s.cfg.OnWindowChange(int(wc.Cols), int(wc.Rows))
				}
				if proc != nil && proc.resize != nil {
					proc.resize(wc.Cols, wc.Rows)
				}
			}
		case "signal":
			var sig struct{ Signal string }
			if ssh.Unmarshal(req.Payload, &sig) == nil && proc != nil {
				if n, known := signals()[sig.Signal]; known {
					proc.signal(n)
					ok = true
				}
			}
		case "exec", "shell":
			if proc != nil {
				break
			}
			var command struct{ Command string }
			if req.Type == "exec" && ssh.Unmarshal(req.Payload, &command) != nil {
				break
			}
			cmd := exec.Command("/bin/sh")
			if req.Type == "exec" {
				cmd = exec.Command("/bin/sh", "-c", command.Command)
			}
			cmd.Dir = s.cfg.Dir
			cmd.Env = append(os.Environ(), env...)
			var err error
			if pr != nil {
				cmd.Env = append(cmd.Env, "TERM="+pr.Term)
				proc, err = startPTY(cmd, ch, pr)
			} else {
				proc, err = startPipes(cmd, ch)
			}
			ok = err == nil
			if ok && req.Type == "exec" && s.cfg.ExecReplyDelay > 0 {
				time.Sleep(s.cfg.ExecReplyDelay)
			}
		case "subsystem":
			var sub struct{ Name string }
			if proc == nil && ssh.Unmarshal(req.Payload, &sub) == nil && sub.Name == "sftp" {
				proc, ok = s.startSFTP(ch), true
			}
		}
		if req.WantReply {
			_ = req.Reply(ok, nil)
		}
		if ok && proc != nil && proc.finish != nil {
			go proc.finish()
			proc.finish = nil
		}
	}
	if proc != nil {
		proc.signal(syscall.SIGKILL)
		<-proc.done
	}
}

// startPipes runs cmd in its own process group with the channel as stdin/stdout/stderr.
func startPipes(cmd *exec.Cmd, ch ssh.Channel) (*running, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = ch
	cmd.Stderr = ch.Stderr()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		_, _ = io.Copy(stdin, ch)
		stdin.Close()
	}()
	r := &running{done: make(chan struct{})}
	var reaped atomic.Bool
	r.signal = signalGroup(cmd, &reaped)
	r.finish = func() {
		defer close(r.done)
		_ = cmd.Wait()
		reaped.Store(true)
		sendExit(ch, cmd.ProcessState)
		ch.Close()
	}
	return r, nil
}

// startPTY runs cmd on a new pseudo-terminal of the requested size.
func startPTY(cmd *exec.Cmd, ch ssh.Channel, pr *ptyRequest) (*running, error) {
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: uint16(pr.Rows), Cols: uint16(pr.Cols)})
	if err != nil {
		return nil, err
	}
	go func() { _, _ = io.Copy(ptmx, ch) }()
	out := make(chan struct{})
	go func() {
		_, _ = io.Copy(ch, ptmx) // ends with EIO once the terminal's last user exits
		close(out)
	}()
	// Resizing uses the descriptor, so it must not race with closing it.
	var mu sync.Mutex
	closed := false
	r := &running{done: make(chan struct{}),
		resize: func(cols, rows uint32) {
			mu.Lock()
			defer mu.Unlock()
			if !closed {
				_ = pty.Setsize(ptmx, &pty.Winsize{Rows: uint16(rows), Cols: uint16(cols)})
			}
		}}
	var reaped atomic.Bool
	r.signal = signalGroup(cmd, &reaped)
	r.finish = func() {
		defer close(r.done)
		_ = cmd.Wait()
		reaped.Store(true)
		<-out
		mu.Lock()
		closed = true
		ptmx.Close()
		mu.Unlock()
		sendExit(ch, cmd.ProcessState)
		ch.Close()
	}
	return r, nil
}

// startSFTP serves SFTP on the channel.
func (s *Server) startSFTP(ch ssh.Channel) *running {
	var opts []sftp.ServerOption
	if s.cfg.Dir != "" {
		opts = append(opts, sftp.WithServerWorkingDirectory(s.cfg.Dir))
	}
	r := &running{done: make(chan struct{}), signal: func(syscall.Signal) { ch.Close() }}
	r.finish = func() {
		defer close(r.done)
		if s.cfg.SFTP != nil {
			var ropts []sftp.RequestServerOption
			if s.cfg.Dir != "" {
				ropts = append(ropts, sftp.WithStartDirectory(s.cfg.Dir))
			}
			srv := sftp.NewRequestServer(ch, *s.cfg.SFTP, ropts...)
			_ = srv.Serve()
			srv.Close()
		} else if srv, err := sftp.NewServer(ch, opts...); err == nil {
			_ = srv.Serve()
			srv.Close()
		}
		sendExit(ch, nil)
		ch.Close()
	}
	return r
}

// signalGroup returns a function signalling cmd's process group until reaped is set. The
// group is not signalled after the process was reaped, when its id may belong to another.
func signalGroup(cmd *exec.Cmd, reaped *atomic.Bool) func(syscall.Signal) {
	return func(sig syscall.Signal) {
		if !reaped.Load() {
			_ = syscall.Kill(-cmd.Process.Pid, sig)
		}
	}
}

// sendExit reports how the process ended: exit-status, or exit-signal when it was killed.
func sendExit(ch ssh.Channel, st *os.ProcessState) {
	status := 0
	if st != nil {
		if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			name := "KILL"
			for n, sig := range signals() {
				if sig == ws.Signal() {
					name = n
				}
			}
			_, _ = ch.SendRequest("exit-signal", false, ssh.Marshal(struct {
				Signal     string
				CoreDumped bool
				Error      string
				Lang       string
			}{Signal: name}))
			return
		}
		status = st.ExitCode()
	}
	_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(status)}))
}

package cloudinittest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Options describe one boot.
type Options struct {
	// Image is the root filesystem from Image; it is only read (an overlay takes the writes).
	Image string
	// Dir keeps the machine's disk (the overlay's upper layer): boot again with the same Dir
	// to reboot the same machine.
	Dir string
	// Addresses are the instance's own addresses, put on the namespace's loopback.
	Addresses []string
	// IMDS answers on 169.254.169.254:80, in a network namespace of its own reached through a
	// veth pair (veth0, 169.254.0.2/16 in the machine).
	IMDS http.Handler
}

// Machine is one booted root: cloud-init ran its four stages and sshd serves on port 22 of the
// namespace's addresses.
type Machine struct {
	cmd      *exec.Cmd
	pid      int // the namespaces' first process, as the host sees it
	merged   string
	upper    string
	console  *Console
	stdin    io.WriteCloser // open while the machine runs (the machine ends when it closes)
	listener net.Listener
	server   *http.Server
	done     chan struct{}
}

// bootScript runs as the first process of new network, mount, PID, UTS and IPC namespaces. It
// mounts the machine's root and a private /proc, /sys, /dev and /run, with the DMI data of an
// EC2 instance in /sys (cloud-init uses IMDSv2 tokens only on a platform it identifies as
// AWS, as clusterctl's instances are), says it is ready and its
// host PID, waits until the metadata service listens, runs cloud-init's boot stages as systemd
// would (init --local, init, modules config, modules final), then starts sshd and stays the
// namespace's first process (cloud-init reads that process's environment). There is no
// /dev/console, so what cloud-init writes to the console goes to its output, which is the
// console the test reads.
const bootScript = `set -eu
lower=$1 upper=$2 work=$3 m=$4 sysnet=$5 imdspid=$6
shift 6
ip link set lo up
for a in "$@"; do ip addr add "$a/32" dev lo; done
# The metadata service lives in a namespace of its own behind a veth pair, as on EC2 it is
# off the instance: traffic to it leaves through the instance's routes and firewall.
rm -f "$imdspid" "$imdspid.netns"
unshare --net sh -c '
  : > "$0.netns"
  until ip link show veth1 >/dev/null 2>&1; do sleep 0.05; done
  ip link set lo up
  ip addr add 169.254.169.254/16 dev veth1
  ip link set veth1 up
  read -r pid rest < /proc/self/stat
  echo "$pid" > "$0"
  exec sleep 2147483647' "$imdspid" &
until [ -e "$imdspid.netns" ]; do sleep 0.05; done
ip link add veth0 type veth peer name veth1 netns "$!"
ip addr add 169.254.0.2/16 dev veth0
ip link set veth0 up
until [ -s "$imdspid" ]; do sleep 0.05; done
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$upper,workdir=$work" "$m"
read -r pid rest < /proc/self/stat
mount -t proc proc "$m/proc"
mount -t sysfs sysfs "$m/sys"
mkdir -p "$sysnet"
mount --bind "$m/sys/class/net" "$sysnet"
mount -t tmpfs -o mode=0755 tmpfs "$m/sys/class"
mkdir -p "$m/sys/class/net" "$m/sys/class/dmi/id"
mount --bind "$sysnet" "$m/sys/class/net"
echo ec2e1916-9099-7caf-fd21-01234abcdef0 > "$m/sys/class/dmi/id/product_uuid"
echo EC2E1916-9099-7CAF-FD21-01234ABCDEF0 > "$m/sys/class/dmi/id/product_serial"
echo "Amazon EC2" > "$m/sys/class/dmi/id/sys_vendor"
echo "Amazon EC2" > "$m/sys/class/dmi/id/chassis_asset_tag"
echo t3.micro > "$m/sys/class/dmi/id/product_name"
mount -t tmpfs -o mode=0755,nosuid tmpfs "$m/dev"
mknod -m 0666 "$m/dev/null" c 1 3
mknod -m 0666 "$m/dev/zero" c 1 5
mknod -m 0666 "$m/dev/full" c 1 7
mknod -m 0666 "$m/dev/random" c 1 8
mknod -m 0666 "$m/dev/urandom" c 1 9
mknod -m 0666 "$m/dev/tty" c 5 0
mkdir "$m/dev/pts" "$m/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$m/dev/pts"
ln -s pts/ptmx "$m/dev/ptmx"
mount -t tmpfs -o mode=1777 tmpfs "$m/dev/shm"
mount -t tmpfs -o mode=0755 tmpfs "$m/run"
hostname localhost
echo "clusterctl-test: ready $pid $(cat "$imdspid")"
read -r go
# The test keeps stdin open while it runs: if it dies, everything here goes too.
(cat >/dev/null; kill -KILL 1) &
inside() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 chroot "$m" "$@"; }
for stage in "init --local" "init" "modules --mode=config" "modules --mode=final"; do
  echo "clusterctl-test: cloud-init $stage"
  inside cloud-init $stage || echo "clusterctl-test: cloud-init $stage exited $?"
done
mkdir -p "$m/run/sshd"
echo "clusterctl-test: booted"
inside /usr/sbin/sshd -D -e &
wait
`

// Boot starts a machine and returns once cloud-init finished and sshd was started; Stop ends
// it, and with it every namespace and mount it made.
func Boot(ctx context.Context, o Options) (*Machine, error) {
	m := &Machine{merged: filepath.Join(o.Dir, "merged"), upper: filepath.Join(o.Dir, "upper"), console: &Console{},
		done: make(chan struct{})}
	work := filepath.Join(o.Dir, "work")
	if strings.ContainsAny(o.Image+o.Dir, ",:") {
		return nil, fmt.Errorf("overlay paths cannot hold ',' or ':': %s, %s", o.Image, o.Dir)
	}
	for _, d := range []string{m.merged, m.upper, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	args := append([]string{"--net", "--mount", "--uts", "--ipc", "--pid", "--fork", "--kill-child", "--propagation", "private",
		"--", "/bin/sh", "-c", bootScript, "boot", o.Image, m.upper, work, m.merged, filepath.Join(o.Dir, "sys-class-net"), filepath.Join(o.Dir, "imds.pid")}, o.Addresses...)
	m.cmd = exec.Command("unshare", args...)
	m.cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	var err error
	if m.stdin, err = m.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := m.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	m.cmd.Stderr = m.cmd.Stdout
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := m.cmd.Start(); err != nil {
		return nil, fmt.Errorf("unshare: %w", err)
	}
	go func() {
		defer close(m.done)
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			m.console.add(sc.Text())
		}
		_ = m.cmd.Wait()
		m.console.add("clusterctl-test: exited")
	}()
	fail := func(err error) (*Machine, error) {
		m.Stop()
		return nil, fmt.Errorf("%w\nconsole:\n%s", err, m.console.String())
	}
	ready, err := m.console.WaitFor(ctx, "clusterctl-test: ready ")
	if err != nil {
		return fail(err)
	}
	var imdsPid int
	if _, err := fmt.Sscanf(strings.TrimPrefix(ready, "clusterctl-test: ready "), "%d %d", &m.pid, &imdsPid); err != nil {
		return fail(fmt.Errorf("namespace pids in %q: %w", ready, err))
	}
	if m.listener, err = listenIn(fmt.Sprintf("/proc/%d/ns/net", imdsPid), "169.254.169.254:80"); err != nil {
		return fail(fmt.Errorf("metadata service: %w", err))
	}
	m.server = &http.Server{Handler: o.IMDS, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = m.server.Serve(m.listener) }()
	if _, err := io.WriteString(m.stdin, "go\n"); err != nil {
		return fail(err)
	}
	if _, err := m.console.WaitFor(ctx, "clusterctl-test: booted"); err != nil {
		return fail(err)
	}
	if _, err := m.console.WaitFor(ctx, "Server listening on"); err != nil {
		return fail(fmt.Errorf("sshd: %w", err))
	}
	return m, nil
}

// listenIn opens a TCP listener inside another network namespace: a goroutine locks its OS
// thread, moves it into the namespace and listens there. The socket stays in that namespace;
// the thread, whose namespace changed, is not returned to the Go scheduler (a goroutine that
// exits while locked takes its thread with it).
func listenIn(nsPath, addr string) (net.Listener, error) {
	type result struct {
		l   net.Listener
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		ns, err := os.Open(nsPath)
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer ns.Close()
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{err: fmt.Errorf("setns %s: %w", nsPath, err)}
			return
		}
		l, err := net.Listen("tcp", addr)
		ch <- result{l, err}
	}()
	r := <-ch
	return r.l, r.err
}

// Console is what the machine printed.
func (m *Machine) Console() string { return m.console.String() }

// WaitConsole waits until a console line contains s.
func (m *Machine) WaitConsole(ctx context.Context, s string) error {
	_, err := m.console.WaitFor(ctx, s)
	return err
}

// Run runs a command inside the machine (its namespaces and root) and returns its combined
// output.
func (m *Machine) Run(ctx context.Context, args ...string) ([]byte, error) {
	full := append([]string{"-t", strconv.Itoa(m.pid), "-n", "-m", "-u", "-i", "-p", "--",
		"env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8", "chroot", m.merged}, args...)
	return exec.CommandContext(ctx, "nsenter", full...).CombinedOutput()
}

// RunNet runs a command of this host inside the machine's network namespace only, as a client
// on the machine's network would (ssh to its sshd, say).
func (m *Machine) RunNet(ctx context.Context, name string, args ...string) ([]byte, error) {
	full := append([]string{"-t", strconv.Itoa(m.pid), "-n", "--", name}, args...)
	return exec.CommandContext(ctx, "nsenter", full...).CombinedOutput()
}

// DiskPath is where a file the machine wrote lies on this host (its overlay's upper layer).
func (m *Machine) DiskPath(path string) string { return filepath.Join(m.upper, path) }

// Stop ends the machine: the metadata service closes and the namespaces' processes are
// killed, which removes the namespaces and their mounts. The disk (Dir) stays for a reboot.
func (m *Machine) Stop() {
	if m.server != nil {
		_ = m.server.Close()
	}
	if m.cmd.Process != nil {
		_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
	}
	select {
	case <-m.done:
	case <-time.After(30 * time.Second):
	}
}

// Console collects output lines and lets a caller wait for one.
type Console struct {
	mu      sync.Mutex
	lines   []string
	changed chan struct{} // closed and replaced when a line arrives
}

func (c *Console) add(line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines = append(c.lines, line)
	if c.changed != nil {
		close(c.changed)
		c.changed = nil
	}
}

// String is the whole console so far.
func (c *Console) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.lines, "\n")
}

// WaitFor returns the first line containing s, waiting for it until ctx ends or the machine
// exits.
func (c *Console) WaitFor(ctx context.Context, s string) (string, error) {
	seen := 0
	for {
		c.mu.Lock()
		for ; seen < len(c.lines); seen++ {
			if strings.Contains(c.lines[seen], s) {
				line := c.lines[seen]
				c.mu.Unlock()
				return line, nil
			}
			if c.lines[seen] == "clusterctl-test: exited" {
				c.mu.Unlock()
				return "", fmt.Errorf("the machine exited before printing %q", s)
			}
		}
		if c.changed == nil {
			c.changed = make(chan struct{})
		}
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			return "", errors.Join(ctx.Err(), fmt.Errorf("waiting for %q", s))
		case <-changed:
		}
	}
}

package remote

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// KnownHosts is one cluster's pinned host keys, kept in an OpenSSH known_hosts file so that
// the system ssh client (-o UserKnownHostsFile=...) trusts exactly the same keys as
// clusterctl does. Lines are written in plain (unhashed) form, "alias,10.0.0.5 ssh-ed25519
// AAAA...", so a user can see and remove the entry of a rebuilt node.
//
// A KnownHosts is safe for concurrent use, and writers in other processes are serialised
// with an advisory lock, so parallel connections pinning keys never lose each other's lines.
type KnownHosts struct {
	path string
	mu   sync.Mutex

	// cached is the file's parsed checker, for the version of the file cachedID names.
	cacheMu  sync.Mutex
	cached   ssh.HostKeyCallback
	cachedID fileID
}

// NewKnownHosts returns the store kept at path (typically ~/.clusterctl/known_hosts/TAG).
// The file and its directory are created on the first Pin.
func NewKnownHosts(path string) *KnownHosts {
	return &KnownHosts{path: path}
}

// Path is the known_hosts file, for messages and for the system ssh client.
func (k *KnownHosts) Path() string { return k.path }

// Pin records pub as the host key of every name in hostnames (aliases or addresses, with
// ":port" when the port is not 22), replacing any key those names had, since pinning means
// "this is the key from now on". The file is rewritten atomically with mode 0600.
func (k *KnownHosts) Pin(hostnames []string, pub ssh.PublicKey) error {
	return k.PinAll([]HostPin{{Hostnames: hostnames, Key: pub}})
}

// HostPin is one host's names and key, for PinAll.
type HostPin struct {
	Hostnames []string
	Key       ssh.PublicKey
	// Strict refuses to replace a different key pinned for the same machine (a line naming
	// both the first hostname, the node's alias, and one of its addresses): for keys read
	// back from the cloud, a changed key is an alarm, never a silent re-pin. A line that
	// shares only the alias or only an address (a cluster recreated under the same tag, an
	// address EC2 recycled) is replaced as before.
	Strict bool
	// Source names where the key came from, for the alarm ("tag clusterctl:hostkey of i-...").
	Source string
}

// PinConflictError is a strict pin whose host already has another key pinned: someone changed
// the key stored with the instance, or the node was rebuilt; a person must tell which.
type PinConflictError struct {
	Host, File, Source string
	Pinned, Offered    string // SHA256 fingerprints
	PinnedLine         int
}

func (e *PinConflictError) Error() string {
	return fmt.Sprintf("host key alarm for %s: %s holds %s, but %s pinned %s (line %d); the key was not "+
		"replaced. If the node was really rebuilt, compare the new fingerprint with its console output, then "+
		"remove line %d from %s; otherwise someone changed the key stored with the instance",
		e.Host, e.Source, e.Offered, e.File, e.Pinned, e.PinnedLine, e.PinnedLine, e.File)
}

// PinAll pins many hosts in one rewrite of the file (a cluster's nodes at once), and writes
// nothing when every pin is already there, so refreshing the pins before each command costs
// one read. Its work grows with the number of lines and pins, not their product: a thousand
// nodes are pinned in milliseconds.
func (k *KnownHosts) PinAll(pins []HostPin) error {
	for _, p := range pins {
		if len(p.Hostnames) == 0 {
			return errors.New("pin host key: no hostnames given")
		}
	}
	var conflicts []error
	err := k.update(func(lines []string) ([]string, bool) {
		before := sortedJoin(lines)
		t := newPinTable(lines)
		for _, p := range pins {
			names := normalizeHosts(p.Hostnames)
			if p.Strict {
				if c := t.conflict(names, p, k.path); c != nil {
					conflicts = append(conflicts, c)
					continue
				}
			}
			t.drop(names)
			t.add(knownhosts.Line(names, p.Key))
		}
		lines = t.lines()
		return lines, sortedJoin(lines) != before
	})
	return errors.Join(append([]error{err}, conflicts...)...)
}

// pinTable is a known_hosts file's lines indexed by the host names of its plain lines, so
// pins and drops touch only the lines naming their hosts.
type pinTable struct {
	text   []string
	hosts  [][]string // the host names of plain lines; nil for others
	gone   []bool     // dropped lines
	byHost map[string][]int
}

func newPinTable(lines []string) *pinTable {
	t := &pinTable{byHost: map[string][]int{}}
	for _, l := range lines {
		t.add(l)
	}
	return t
}

// plainHosts returns the host names of a plain line, or nil for comments, markers and hashed
// entries.
func plainHosts(line string) []string {
	fields := strings.Fields(line)
	if len(fields) < 3 || strings.HasPrefix(fields[0], "#") || strings.HasPrefix(fields[0], "@") ||
		strings.HasPrefix(fields[0], "|") {
		return nil
	}
	return strings.Split(fields[0], ",")
}

func (t *pinTable) add(line string) {
	i := len(t.text)
	t.text = append(t.text, line)
	hosts := plainHosts(line)
	t.hosts = append(t.hosts, hosts)
	t.gone = append(t.gone, false)
	for _, h := range hosts {
		t.byHost[h] = append(t.byHost[h], i)
	}
}

// drop removes names from the plain lines naming them, deleting lines left without hosts.
func (t *pinTable) drop(names []string) {
	drop := make(map[string]bool, len(names))
	for _, n := range names {
		drop[n] = true
	}
	for _, n := range names {
		for _, i := range t.byHost[n] {
			hosts := t.hosts[i]
			if t.gone[i] {
				continue
			}
			var keep []string
			for _, h := range hosts {
				if !drop[h] {
					keep = append(keep, h)
				}
			}
			if len(keep) == len(hosts) {
				continue
			}
			if len(keep) == 0 {
				t.gone[i] = true
				continue
			}
			fields := strings.Fields(t.text[i])
			t.text[i], t.hosts[i] = strings.Join(keep, ",")+" "+strings.Join(fields[1:], " "), keep
		}
		delete(t.byHost, n)
	}
}

// conflict reports a strict pin whose machine (its first name together with another of its
// names) is pinned, in a plain line, to another key.
func (t *pinTable) conflict(names []string, p HostPin, file string) *PinConflictError {
	want := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(p.Key)))
	name := names[0]
	for _, i := range t.byHost[name] {
		hosts := t.hosts[i]
		if t.gone[i] || !slices.Contains(hosts, name) {
			continue
		}
		fields := strings.Fields(t.text[i])
		if fields[1]+" "+fields[2] == want {
			continue
		}
		if !slices.ContainsFunc(names[1:], func(n string) bool { return slices.Contains(hosts, n) }) {
			continue
		}
		pinned, _, _, _, err := ssh.ParseAuthorizedKey([]byte(fields[1] + " " + fields[2]))
		fp := fields[1]
		if err == nil {
			fp = ssh.FingerprintSHA256(pinned)
		}
		return &PinConflictError{Host: name, File: file, Source: p.Source, Pinned: fp,
			Offered: ssh.FingerprintSHA256(p.Key), PinnedLine: i + 1}
	}
	return nil
}

// lines returns the file's lines after the edits.
func (t *pinTable) lines() []string {
	out := make([]string, 0, len(t.text))
	for i, l := range t.text {
		if !t.gone[i] {
			out = append(out, l)
		}
	}
	return out
}

// sortedJoin is the lines' content regardless of order, to tell whether an edit changed it.
func sortedJoin(lines []string) string {
	cp := make([]string, 0, len(lines))
	for _, l := range lines {
		if l != "" {
			cp = append(cp, l)
		}
	}
	sort.Strings(cp)
	return strings.Join(cp, "\n")
}

// Forget removes every pinned key of the given hostnames. The cluster engine calls it when a
// node is terminated, because EC2 hands the address to another machine later and a stale
// pin would turn into a (false) mismatch alarm.
func (k *KnownHosts) Forget(hostnames []string) error {
	names := normalizeHosts(hostnames)
	return k.update(func(lines []string) ([]string, bool) { return dropHosts(lines, names), true })
}

// update rewrites the file with edit applied to its lines, under both the in-process mutex
// and a cross-process flock; edit reports whether anything changed.
func (k *KnownHosts) update(edit func([]string) ([]string, bool)) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	unlock, err := k.lockFile()
	if err != nil {
		return err
	}
	defer unlock()
	lines, err := k.readLines()
	if err != nil {
		return err
	}
	lines, changed := edit(lines)
	if !changed {
		return nil
	}
	return k.writeLines(lines)
}

// lockFile takes an exclusive advisory lock on a sibling lock file.
func (k *KnownHosts) lockFile() (func(), error) {
	if err := os.MkdirAll(filepath.Dir(k.path), 0o700); err != nil {
		return nil, fmt.Errorf("create known_hosts directory: %w", err)
	}
	f, err := os.OpenFile(k.path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open known_hosts lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// readLines returns the file's lines; a missing file is an empty store.
func (k *KnownHosts) readLines() ([]string, error) {
	data, err := os.ReadFile(k.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read known_hosts: %w", err)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read known_hosts %s: %w", k.path, err)
	}
	return lines, nil
}

// writeLines replaces the file atomically: a reader (or the system ssh client) sees the old
// file or the new one, never a half-written one.
func (k *KnownHosts) writeLines(lines []string) error {
	dir := filepath.Dir(k.path)
	tmp, err := os.CreateTemp(dir, ".known_hosts-*")
	if err != nil {
		return fmt.Errorf("write known_hosts: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	var buf bytes.Buffer
	for _, l := range lines {
		buf.WriteString(l)
		buf.WriteByte('\n')
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write known_hosts: %w", err)
	}
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("write known_hosts: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write known_hosts: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write known_hosts: %w", err)
	}
	if err := os.Rename(tmp.Name(), k.path); err != nil {
		return fmt.Errorf("write known_hosts: %w", err)
	}
	return nil
}

// normalizeHosts puts names in known_hosts form ("[host]:port" for non-22 ports), dropping
// empty and repeated names.
func normalizeHosts(hostnames []string) []string {
	seen := make(map[string]bool, len(hostnames))
	var out []string
	for _, h := range hostnames {
		if h == "" {
			continue
		}
		n := knownhosts.Normalize(h)
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// dropHosts removes names from the host field of plain lines, deleting lines left without
// hosts. Comments, markers (@revoked, @cert-authority) and hashed entries are kept as they are.
func dropHosts(lines []string, names []string) []string {
	t := newPinTable(lines)
	t.drop(names)
	return t.lines()
}

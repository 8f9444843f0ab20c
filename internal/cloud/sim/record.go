package sim

import (
	"errors"
	"sync"

	"github.com/clusterctl/clusterctl/internal/remote"
)

// Recorder collects the answers of a real cluster's nodes while clusterctl works on it: give
// its Observe to the engine (cluster.Engine.Observe), run the operations, then take Answers.
type Recorder struct {
	// Tag is the recorded cluster's tag, replaced by a placeholder.
	Tag string
	// Master is the master's alias (default "master").
	Master string

	mu      sync.Mutex
	answers Answers
	runs    map[string]map[entryKey]int // per node: how often each command ran
	skipped []error
}

// Observe records one command; it is a remote.Options.Observe.
func (r *Recorder) Observe(x remote.Exchange) {
	var remoteErr *remote.RemoteError
	exit := 0
	switch {
	case x.Err == nil:
	case errors.As(x.Err, &remoteErr):
		exit = remoteErr.ExitStatus
	default:
		r.mu.Lock()
		r.skipped = append(r.skipped, x.Err)
		r.mu.Unlock()
		return
	}
	script, sudo := x.Command, x.Sudo
	role := "node"
	if x.Target.Name == r.master() {
		role = "master"
	}
	e := &Entry{Role: role, Sudo: sudo, Command: Normalize(script, r.Tag), Exit: exit,
		Stdout: r.placeholders(x.Result.Stdout), Stderr: r.placeholders(x.Result.Stderr)}
	sample := Sample{Hosts: Hosts(script), MS: float64(x.Duration.Microseconds()) / 1000}

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.runs == nil {
		r.runs = map[string]map[entryKey]int{}
	}
	if r.answers.index == nil {
		r.answers.index = map[entryKey]*Entry{}
	}
	perNode := r.runs[x.Target.Name]
	if perNode == nil {
		perNode = map[entryKey]int{}
		r.runs[x.Target.Name] = perNode
	}
	k := e.key()
	e.Occurrence = perNode[k]
	perNode[k]++
	if got, ok := r.answers.index[e.key()]; ok {
		got.Samples = append(got.Samples, sample)
		return
	}
	e.Samples = []Sample{sample}
	r.answers.Entries = append(r.answers.Entries, e)
	r.answers.index[e.key()] = e
}

// NewCluster starts counting runs anew, for a cluster started after the last one ended (its
// nodes run each command for the first time again).
func (r *Recorder) NewCluster() {
	r.mu.Lock()
	r.runs = nil
	r.mu.Unlock()
}

// Answers returns what was recorded, and the errors of commands that could not be recorded
// (the connection failed, so no node answered).
func (r *Recorder) Answers(source string) (*Answers, []error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := &Answers{Source: source, Entries: append([]*Entry(nil), r.answers.Entries...)}
	a.reindex()
	return a, append([]error(nil), r.skipped...)
}

func (r *Recorder) master() string {
	if r.Master != "" {
		return r.Master
	}
	return "master"
}

// placeholders replaces the secrets and names of the recorded cluster in an output: key pairs
// and public keys (a simulated node answers with fresh ones), and the tag.
func (r *Recorder) placeholders(out string) string {
	s := pemRE.ReplaceAllString(out, phPEM)
	s = keyRE.ReplaceAllString(s, phKey)
	if re := tagPattern(r.Tag); re != nil {
		s = re.ReplaceAllString(s, phTag)
	}
	return s
}

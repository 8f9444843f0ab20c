package sim

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// Answers are how real nodes answered clusterctl's commands, recorded from a real local
// cluster (see Recorder) and kept in testdata/answers.json. A simulated node looks a command up
// by its role and normalized text and answers with the recorded exit status and output after
// the recorded time, so the simulation runs exactly the commands the real thing runs and no
// other: a command nobody recorded fails loudly instead of succeeding by default.
type Answers struct {
	// Source says what the answers were recorded from.
	Source  string   `json:"source"`
	Entries []*Entry `json:"answers"`

	index map[entryKey]*Entry
	// samples pools the samples of every occurrence of a command, for Work.
	samples map[entryKey][]Sample
}

// Entry is one recorded command and its answer.
type Entry struct {
	// Role is where it ran: master or node.
	Role string `json:"role"`
	// Sudo is true when it ran as root through sudo.
	Sudo bool `json:"sudo"`
	// Occurrence counts the earlier runs of the same command on the same node (a rerun of an
	// idempotent step answers differently from the first run).
	Occurrence int    `json:"occurrence"`
	Command    string `json:"command"`
	Exit       int    `json:"exit"`
	// Stdout and Stderr are the output with keys, key pairs and the cluster's tag replaced by
	// placeholders (a fresh key pair and the simulated cluster's tag go in when answering).
	Stdout string `json:"stdout,omitempty"`
	Stderr string `json:"stderr,omitempty"`
	// Samples are the run times measured, with the number of hosts the command named.
	Samples []Sample `json:"samples"`
}

// Sample is one measured run of a command: how long the node took and how many hosts the
// command named (a master script has a section per host).
type Sample struct {
	Hosts int     `json:"hosts"`
	MS    float64 `json:"ms"`
}

type entryKey struct {
	role       string
	sudo       bool
	occurrence int
	command    string
}

func (e *Entry) key() entryKey { return entryKey{e.Role, e.Sudo, e.Occurrence, e.Command} }

//go:embed testdata/answers.json
var recordedAnswers []byte

// Recorded returns the answers kept in the package (testdata/answers.json).
func Recorded() (*Answers, error) {
	return ParseAnswers(recordedAnswers)
}

// ParseAnswers reads answers saved by Save.
func ParseAnswers(data []byte) (*Answers, error) {
	a := &Answers{}
	if err := json.Unmarshal(data, a); err != nil {
		return nil, fmt.Errorf("recorded answers: %w", err)
	}
	a.reindex()
	return a, nil
}

func (a *Answers) reindex() {
	a.index = make(map[entryKey]*Entry, len(a.Entries))
	a.samples = map[entryKey][]Sample{}
	for _, e := range a.Entries {
		a.index[e.key()] = e
		k := e.key()
		k.occurrence = 0
		a.samples[k] = append(a.samples[k], e.Samples...)
	}
}

// Lookup finds the answer to a normalized command run for the occurrence-th time on a node of
// role: the latest recorded occurrence not after it.
func (a *Answers) Lookup(role string, sudo bool, command string, occurrence int) (*Entry, bool) {
	for o := occurrence; o >= 0; o-- {
		if e, ok := a.index[entryKey{role, sudo, o, command}]; ok {
			return e, true
		}
	}
	return nil, false
}

// Work is how long a node takes to run e's command when it names hosts hosts. A command whose
// recorded runs show a cost per host (a master script with a section per host) takes
// a + b·hosts, fitted by least squares to the runs of every size recorded; elsewhere (runs of
// one size, or times that do not follow the number of hosts) it takes the runs' mean.
func (a *Answers) Work(e *Entry, hosts int) time.Duration {
	k := e.key()
	k.occurrence = 0
	base, slope := fit(a.samples[k])
	return time.Duration((base + slope*float64(hosts)) * float64(time.Millisecond))
}

// minExplained is how much of the variation of a command's run times the number of hosts must
// explain (R²) for its per-host cost to be believed rather than taken for noise, and
// minSizes how many different numbers of hosts the runs must have named (two always fit a
// line).
const (
	minExplained = 0.8
	minSizes     = 3
)

// fit returns the base time and the per-host time of samples (milliseconds), never negative.
func fit(samples []Sample) (base, slope float64) {
	if len(samples) == 0 {
		return 0, 0
	}
	var n, sx, sy float64
	sizes := map[int]bool{}
	for _, s := range samples {
		n++
		sx += float64(s.Hosts)
		sy += s.MS
		sizes[s.Hosts] = true
	}
	mx, my := sx/n, sy/n
	var sxx, sxy, syy float64
	for _, s := range samples {
		dx, dy := float64(s.Hosts)-mx, s.MS-my
		sxx += dx * dx
		sxy += dx * dy
		syy += dy * dy
	}
	if len(sizes) < minSizes || syy == 0 || sxy <= 0 || sxy*sxy/(sxx*syy) < minExplained {
		return my, 0
	}
	slope = sxy / sxx
	return max(my-slope*mx, 0), slope
}

// Save writes the answers in a stable order, for a fixture that diffs well.
func (a *Answers) Save(path string) error {
	sort.SliceStable(a.Entries, func(i, j int) bool {
		x, y := a.Entries[i], a.Entries[j]
		if x.Role != y.Role {
			return x.Role < y.Role
		}
		if x.Command != y.Command {
			return x.Command < y.Command
		}
		if x.Sudo != y.Sudo {
			return !x.Sudo
		}
		return x.Occurrence < y.Occurrence
	})
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(a); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// Diff lists how b differs from a in what matters to the simulation (commands, exit statuses,
// normalized output), ignoring run times; empty when they agree.
func (a *Answers) Diff(b *Answers) []string {
	var out []string
	seen := map[entryKey]bool{}
	for _, e := range a.Entries {
		seen[e.key()] = true
		f, ok := b.index[e.key()]
		switch {
		case !ok:
			out = append(out, "no longer sent: "+e.describe())
		case e.Exit != f.Exit:
			out = append(out, fmt.Sprintf("exit status %d, was %d: %s", f.Exit, e.Exit, e.describe()))
		case Normalize(e.Stdout, "") != Normalize(f.Stdout, ""):
			out = append(out, fmt.Sprintf("stdout differs: %s\n--- recorded\n%s\n--- now\n%s", e.describe(), e.Stdout, f.Stdout))
		case Normalize(e.Stderr, "") != Normalize(f.Stderr, ""):
			out = append(out, fmt.Sprintf("stderr differs: %s\n--- recorded\n%s\n--- now\n%s", e.describe(), e.Stderr, f.Stderr))
		}
	}
	for _, f := range b.Entries {
		if !seen[f.key()] {
			out = append(out, "newly sent: "+f.describe())
		}
	}
	return out
}

// describe names an entry in a diff: role, occurrence and the command's first lines.
func (e *Entry) describe() string {
	lines := strings.SplitN(e.Command, "\n", 4)
	if len(lines) > 3 {
		lines[3] = "..."
	}
	return fmt.Sprintf("on a %s (run %d, sudo %v):\n    %s", e.Role, e.Occurrence+1, e.Sudo, strings.Join(lines, "\n    "))
}

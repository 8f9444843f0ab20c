package sim

import (
	"regexp"
	"strings"
	"sync"
)

// Placeholders stand for what differs between the recorded cluster and a simulated one, so a
// command recorded on a 3-node cluster matches the same command sent to a 1000-node one.
const (
	phPEM  = "{{pem}}"
	phKey  = "{{key}}"
	phIP   = "{{ip}}"
	phNode = "{{node}}"
	phTag  = "{{tag}}"
	phRand = "{{rand}}"
	phNum  = "#"
)

var (
	pemRE = regexp.MustCompile(`-----BEGIN ([A-Z ]+)-----\n[A-Za-z0-9+/=\n]*-----END [A-Z ]+-----`)
	// keyRE is an SSH public key's type and blob; the comment after it, if any, is kept.
	keyRE = regexp.MustCompile(`(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp[0-9]+) AAAA[A-Za-z0-9+/]+=*`)
	ipRE  = regexp.MustCompile(`\b[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\b`)
	// aliasRE is a node's alias: the master, node001 and on, or an instance id (local and EC2).
	aliasRE = regexp.MustCompile(`\b(master|node[0-9]{3,}|i-[0-9a-f]{8,17})\b`)
	// randRE are the random names the remote package gives staged uploads and temporary files.
	randRE = regexp.MustCompile(`clusterctl-(upload-)?[0-9a-f]{12}`)
	// sizeRE is an amount with a unit (a host's memory in use, 1010.6M or 1.1G): the unit changes
	// with the amount.
	sizeRE = regexp.MustCompile(`\b[0-9]+(\.[0-9]+)?[KMGT]\b`)
	numRE  = regexp.MustCompile(`[0-9]+`)
	sudoRE = regexp.MustCompile(`^sudo -n -- sh -c '`)
	// quotedRE is a quoted word of placeholders: a list of names is quoted, a single name is
	// not (remote.Quote).
	quotedRE = regexp.MustCompile(`'((?:\{\{[a-z]+\}\}|#)+)'`)
)

// maxBlock is the longest run of lines (a host's section of a master script) collapsed when it
// repeats.
const maxBlock = 40

// Normalize reduces a command or an output to what does not depend on the cluster it was sent
// to: keys, addresses, node names, the cluster's tag, random names and numbers become
// placeholders, and whatever repeats once per node (lines, blocks of lines, names in a list)
// is kept once. Two clusters of any sizes send the same normalized commands, which is what lets
// answers recorded on a small real cluster serve a simulated one of a thousand nodes.
func Normalize(text, tag string) string {
	return normalize(text, tagPattern(tag))
}

// tagPattern matches tag as a word; nil for no tag.
func tagPattern(tag string) *regexp.Regexp {
	if tag == "" {
		return nil
	}
	return regexp.MustCompile(`\b` + regexp.QuoteMeta(tag) + `\b`)
}

func normalize(text string, tagRE *regexp.Regexp) string {
	s := pemRE.ReplaceAllString(text, phPEM)
	s = keyRE.ReplaceAllString(s, phKey)
	s = ipRE.ReplaceAllString(s, phIP)
	if tagRE != nil {
		s = tagRE.ReplaceAllString(s, phTag)
	}
	s = aliasRE.ReplaceAllString(s, phNode)
	s = randRE.ReplaceAllString(s, phRand)
	s = sizeRE.ReplaceAllString(s, phNum)
	s = numRE.ReplaceAllString(s, phNum)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = collapseTokens(l)
	}
	return quotedRE.ReplaceAllString(strings.Join(collapseBlocks(lines), "\n"), "$1")
}

// normalized is a command reduced by Normalize, with the number of hosts it names.
type normalized struct {
	text  string
	hosts int
}

// normCache remembers normalized commands: the same script (a hosts file for a thousand
// nodes) goes to every node, and is reduced once.
type normCache struct {
	mu   sync.Mutex
	m    map[string]normalized
	tags map[string]*regexp.Regexp
}

// normCacheSize bounds the commands remembered.
const normCacheSize = 4096

func (c *normCache) get(script, tag string) normalized {
	key := tag + "\x00" + script
	c.mu.Lock()
	if n, ok := c.m[key]; ok {
		c.mu.Unlock()
		return n
	}
	if c.tags == nil {
		c.tags = map[string]*regexp.Regexp{}
	}
	re, ok := c.tags[tag]
	if !ok {
		re = tagPattern(tag)
		c.tags[tag] = re
	}
	c.mu.Unlock()
	n := normalized{text: normalize(script, re), hosts: Hosts(script)}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= normCacheSize {
		c.m = map[string]normalized{}
	}
	c.m[key] = n
	c.mu.Unlock()
	return n
}

// Hosts counts the node names a command mentions, once each: the measure of how much work a
// master script does (one section per host).
func Hosts(text string) int {
	seen := map[string]bool{}
	for _, m := range aliasRE.FindAllString(text, -1) {
		seen[m] = true
	}
	return len(seen)
}

// Unsudo returns the script inside remote.Sudo's wrapper and true, or line and false.
func Unsudo(line string) (string, bool) {
	if !sudoRE.MatchString(line) || !strings.HasSuffix(line, "'") {
		return line, false
	}
	body := line[len("sudo -n -- sh -c '") : len(line)-1]
	return strings.ReplaceAll(body, `'\''`, `'`), true
}

// collapseTokens keeps one of each run of equal words holding a placeholder, separated by
// spaces, commas, semicolons or quotes: "for n in {{node}} {{node}} {{node}}; do" becomes
// "for n in {{node}}; do".
func collapseTokens(line string) string {
	if !strings.Contains(line, "{{") {
		return line
	}
	type piece struct{ tok, sep string }
	isSep := func(c byte) bool { return c == ' ' || c == ',' || c == ';' || c == '\'' || c == '"' }
	var out []piece
	for i := 0; i < len(line); {
		j := i
		for j < len(line) && !isSep(line[j]) {
			j++
		}
		k := j
		for k < len(line) && isSep(line[k]) {
			k++
		}
		p := piece{line[i:j], line[j:k]}
		if n := len(out); n > 0 && p.tok != "" && p.tok == out[n-1].tok && strings.Contains(p.tok, "{{") {
			out[n-1].sep = p.sep
		} else {
			out = append(out, p)
		}
		i = k
	}
	var b strings.Builder
	for _, p := range out {
		b.WriteString(p.tok)
		b.WriteString(p.sep)
	}
	return b.String()
}

// collapseBlocks keeps one copy of each run of equal consecutive blocks of up to maxBlock lines.
func collapseBlocks(lines []string) []string {
	for k := 1; k <= maxBlock; k++ {
		out := make([]string, 0, len(lines))
		for i := 0; i < len(lines); {
			if i+2*k <= len(lines) && equalLines(lines[i:i+k], lines[i+k:i+2*k]) {
				j := i + 2*k
				for j+k <= len(lines) && equalLines(lines[i:i+k], lines[j:j+k]) {
					j += k
				}
				out = append(out, lines[i:i+k]...)
				i = j
				continue
			}
			out = append(out, lines[i])
			i++
		}
		lines = out
	}
	return lines
}

func equalLines(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

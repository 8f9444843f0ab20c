package ui

import (
	"cmp"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Mask replaces every piece of redacted text.
const Mask = "****"

// minSecretLen is the shortest value Add accepts: masking shorter strings ("yes", a region
// letter) would shred ordinary output while protecting nothing worth protecting.
const minSecretLen = 6

// Redactor masks credentials in text on its way to any output. It knows the exact values
// registered with Add plus patterns for the usual suspects (AWS key ids, key=value secrets,
// private keys, SigV4 headers), so a credential that was never registered is still caught.
// The zero value is ready to use; it is safe for concurrent use.
type Redactor struct {
	once  sync.Once
	rules []rule
	pem   pemRules

	mu      sync.RWMutex
	secrets []string // longest first, so a secret containing another is masked whole
}

// rule is one pattern and its replacement template (regexp.Expand syntax).
type rule struct {
	re   *regexp.Regexp
	repl string
}

// pemRules finds private key blocks, including a block whose END line has not arrived yet.
type pemRules struct {
	block *regexp.Regexp
	end   *regexp.Regexp
}

// NewRedactor returns an empty Redactor; it exists for readability at call sites.
func NewRedactor() *Redactor {
	return &Redactor{}
}

// init compiles the patterns on first use so the zero value works and the package keeps no
// global state.
func (r *Redactor) init() {
	r.once.Do(func() {
		r.rules = builtinRules()
		r.pem = pemRules{
			block: regexp.MustCompile(`(?s)-----BEGIN[A-Z0-9 ]* PRIVATE KEY-----.*?(?:-----END[A-Z0-9 ]* PRIVATE KEY-----|\z)`),
			end:   regexp.MustCompile(`-----END[A-Z0-9 ]* PRIVATE KEY-----`),
		}
	})
}

// builtinRules lists the patterns masked whether or not anything was registered. Quoted values
// come before bare ones so JSON and slog output keep their quotes.
func builtinRules() []rule {
	const (
		sensitive = `(?i)([A-Za-z0-9_.-]*?(?:secret|password|passwd|token)[A-Za-z0-9_-]*"?[ \t]*[=:][ \t]*)`
		header    = `(?i)(authorization"?[ \t]*[=:][ \t]*)`
		quoted    = `"(?:[^"\\\n]|\\.)*"`
		single    = `'[^'\n]*'`
	)
	return []rule{
		{regexp.MustCompile(header + quoted), `${1}"` + Mask + `"`},
		{regexp.MustCompile(header + `[^\s"][^\r\n]*`), `${1}` + Mask},
		{regexp.MustCompile(sensitive + quoted), `${1}"` + Mask + `"`},
		{regexp.MustCompile(sensitive + single), `${1}'` + Mask + `'`},
		{regexp.MustCompile(sensitive + `[^\s"',;&]+`), `${1}` + Mask},
		{regexp.MustCompile(`(?i)((?:credential|signature)=)[^\s"',;&]+`), `${1}` + Mask},
		{regexp.MustCompile(`(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{16,}`), Mask},
	}
}

// Add registers exact values to mask wherever they appear, such as a secret access key read
// from the credentials file. Values shorter than six characters are ignored. The URL-encoded
// form is registered too, because AWS secrets contain '/' and '+' and travel in query strings.
func (r *Redactor) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range secrets {
		for _, v := range []string{s, url.QueryEscape(s)} {
			if len(v) >= minSecretLen && !slices.Contains(r.secrets, v) {
				r.secrets = append(r.secrets, v)
			}
		}
	}
	slices.SortFunc(r.secrets, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
}

// String returns s with every known secret and every credential-looking pattern masked.
func (r *Redactor) String(s string) string {
	out, _ := r.redact(s, false)
	return out
}

// redact masks s. inPEM says that s continues a private key whose END line has not been seen;
// the result says whether that is still the case at the end of s, which is how a writer masks
// a key split over several writes.
func (r *Redactor) redact(s string, inPEM bool) (string, bool) {
	r.init()
	var prefix string
	if inPEM {
		loc := r.pem.end.FindStringIndex(s)
		if loc == nil {
			if s == "" {
				return "", true
			}
			return Mask, true
		}
		prefix, s = Mask, s[loc[1]:]
	}
	s = r.replaceSecrets(s)
	s, inPEM = r.replacePEM(s)
	for _, rl := range r.rules {
		s = rl.re.ReplaceAllString(s, rl.repl)
	}
	return prefix + s, inPEM
}

// replaceSecrets masks the registered exact values.
func (r *Redactor) replaceSecrets(s string) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, secret := range r.secrets {
		s = strings.ReplaceAll(s, secret, Mask)
	}
	return s
}

// replacePEM masks private key blocks and reports whether the last one was left open.
func (r *Redactor) replacePEM(s string) (string, bool) {
	locs := r.pem.block.FindAllStringIndex(s, -1)
	if locs == nil {
		return s, false
	}
	last := locs[len(locs)-1]
	open := !r.pem.end.MatchString(s[last[0]:last[1]])
	return r.pem.block.ReplaceAllLiteralString(s, Mask), open
}

// Writer wraps w so that everything written is redacted first. Each Write is masked on its
// own, except that a private key left open by one Write keeps being masked until its END
// line. The returned writer serializes Writes, so concurrent writers cannot interleave bytes.
func (r *Redactor) Writer(w io.Writer) io.Writer {
	return &redactWriter{r: r, w: w}
}

// redactWriter is the io.Writer returned by Redactor.Writer.
type redactWriter struct {
	r     *Redactor
	mu    sync.Mutex
	w     io.Writer
	inPEM bool
}

// Write masks p and writes the result. It reports len(p) on success because the masked text
// has a different length and callers such as io.Copy treat a short count as an error.
func (rw *redactWriter) Write(p []byte) (int, error) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	out, inPEM := rw.r.redact(string(p), rw.inPEM)
	rw.inPEM = inPEM
	if _, err := io.WriteString(rw.w, out); err != nil {
		return 0, fmt.Errorf("write redacted output: %w", err)
	}
	return len(p), nil
}

package cloudinittest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// IMDS emulates EC2's instance metadata service with tokens required (IMDSv2, as clusterctl
// launches instances): PUT /latest/api/token issues a token, and every other request must
// carry it. It serves one instance's metadata tree and user data under any API version.
type IMDS struct {
	// Meta maps paths below meta-data/ ("instance-id", "placement/availability-zone") to
	// values; directory listings are derived from them.
	Meta map[string]string
	// UserData is served at user-data.
	UserData []byte
	// Refuse answers every token request with 403, as the service does when it is turned off.
	Refuse bool

	mu       sync.Mutex
	requests []string
	// revoked counts RevokeTokens calls; a token names the generation it was issued in.
	revoked int
}

const imdsToken = "clusterctl-test-token"

// token is the token valid now.
func (m *IMDS) token() string {
	if m.revoked == 0 {
		return imdsToken
	}
	return fmt.Sprintf("%s-%d", imdsToken, m.revoked)
}

// Set changes (or, with ok false, removes) a metadata value while the service runs: EC2 giving
// a spot instance its interruption notice at spot/instance-action, say.
func (m *IMDS) Set(path, value string, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Meta == nil {
		m.Meta = map[string]string{}
	}
	if ok {
		m.Meta[path] = value
	} else {
		delete(m.Meta, path)
	}
}

// RevokeTokens makes every token issued so far invalid (401), as when one expires.
func (m *IMDS) RevokeTokens() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.revoked++
}

// Count counts the requests served so far whose "METHOD PATH STATUS" line contains s.
func (m *IMDS) Count(s string) int {
	n := 0
	for _, r := range m.Requests() {
		if strings.Contains(r, s) {
			n++
		}
	}
	return n
}

// Requests lists the requests served so far as "METHOD PATH STATUS".
func (m *IMDS) Requests() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.requests)
}

func (m *IMDS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	status := m.serve(w, r)
	m.requests = append(m.requests, r.Method+" "+r.URL.Path+" "+http.StatusText(status))
}

func (m *IMDS) serve(w http.ResponseWriter, r *http.Request) int {
	if r.URL.Path == "/latest/api/token" {
		switch {
		case r.Method != http.MethodPut:
			return fail(w, http.StatusMethodNotAllowed)
		case m.Refuse:
			return fail(w, http.StatusForbidden)
		case r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") == "":
			return fail(w, http.StatusBadRequest)
		}
		_, _ = io.WriteString(w, m.token())
		return http.StatusOK
	}
	if r.Method != http.MethodGet {
		return fail(w, http.StatusMethodNotAllowed)
	}
	if r.Header.Get("X-aws-ec2-metadata-token") != m.token() {
		return fail(w, http.StatusUnauthorized)
	}
	// /VERSION/rest: any version answers alike.
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)
	if len(parts) < 2 {
		_, _ = io.WriteString(w, "latest\n")
		return http.StatusOK
	}
	rest := parts[1]
	switch {
	case rest == "user-data":
		if m.UserData == nil {
			return fail(w, http.StatusNotFound)
		}
		_, _ = w.Write(m.UserData)
		return http.StatusOK
	case rest == "dynamic/instance-identity" || rest == "dynamic/instance-identity/":
		_, _ = io.WriteString(w, "document")
		return http.StatusOK
	case rest == "dynamic/instance-identity/document":
		doc, _ := json.Marshal(map[string]string{"instanceId": m.Meta["instance-id"], "region": "us-east-1",
			"availabilityZone": m.Meta["placement/availability-zone"], "imageId": m.Meta["ami-id"]})
		_, _ = w.Write(doc)
		return http.StatusOK
	case rest == "meta-data" || strings.HasPrefix(rest, "meta-data/"):
		return m.metadata(w, strings.Trim(strings.TrimPrefix(rest, "meta-data"), "/"))
	}
	return fail(w, http.StatusNotFound)
}

// metadata answers a leaf with its value and a directory with its entries, one per line,
// directories ending in "/".
func (m *IMDS) metadata(w http.ResponseWriter, path string) int {
	if v, ok := m.Meta[path]; ok {
		_, _ = io.WriteString(w, v)
		return http.StatusOK
	}
	prefix := path + "/"
	if path == "" {
		prefix = ""
	}
	var entries []string
	for k := range m.Meta {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		if dir, _, isDir := strings.Cut(rest, "/"); isDir {
			rest = dir + "/"
		}
		if !slices.Contains(entries, rest) {
			entries = append(entries, rest)
		}
	}
	if len(entries) == 0 {
		return fail(w, http.StatusNotFound)
	}
	slices.Sort(entries)
	_, _ = io.WriteString(w, strings.Join(entries, "\n"))
	return http.StatusOK
}

func fail(w http.ResponseWriter, status int) int {
	http.Error(w, http.StatusText(status), status)
	return status
}

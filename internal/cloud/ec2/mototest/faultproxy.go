package mototest

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"
)

// FaultProxy stands between clusterctl and moto's EC2 server on loopback and answers the
// requests its rule picks with an EC2 error instead of passing them on: throttling
// (RequestLimitExceeded, 503), server errors (InternalError 500, Unavailable 503), no capacity
// for a launch. A refused request never reaches moto, as a throttled request never reaches EC2.
type FaultProxy struct {
	srv  *httptest.Server
	rule func(Request) *Fault

	mu       sync.Mutex
	n        int
	injected map[string]int
	actions  map[string]int
}

// Request is what a rule sees of one EC2 call: its sequence number (1 for the first), its
// Action and its form values.
type Request struct {
	N      int
	Action string
	Form   url.Values
}

// Fault is the EC2 error a rule answers with.
type Fault struct {
	Status        int
	Code, Message string
}

// Common faults, as EC2 sends them.
var (
	Throttled     = Fault{Status: http.StatusServiceUnavailable, Code: "RequestLimitExceeded", Message: "Request limit exceeded."}
	InternalError = Fault{Status: http.StatusInternalServerError, Code: "InternalError", Message: "An internal error has occurred."}
	Unavailable   = Fault{Status: http.StatusServiceUnavailable, Code: "Unavailable", Message: "The server is overloaded and can't handle the request."}
	NoCapacity    = Fault{Status: http.StatusInternalServerError, Code: "InsufficientInstanceCapacity",
		Message: "We currently do not have sufficient capacity in the Availability Zone you requested."}
)

// NewFaultProxy starts a proxy to target (moto's endpoint) on loopback, closed when the test
// ends. rule picks the requests to refuse (nil passes everything).
func NewFaultProxy(t testing.TB, target string, rule func(Request) *Fault) *FaultProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &FaultProxy{rule: rule, injected: map[string]int{}, actions: map[string]int{}}
	forward := httputil.NewSingleHostReverseProxy(u)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		form, _ := url.ParseQuery(string(body))
		req := p.next(form)
		if f := p.pick(req); f != nil {
			writeFault(w, *f)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		forward.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// URL is the proxy's endpoint, to point clusterctl at instead of moto's.
func (p *FaultProxy) URL() string { return p.srv.URL }

// Injected counts the faults answered so far, by code.
func (p *FaultProxy) Injected() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.injected)
}

// Requests counts the requests seen so far, by action (refused ones included).
func (p *FaultProxy) Requests() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.actions)
}

// SetRule replaces the rule, for a test that changes the weather half way.
func (p *FaultProxy) SetRule(rule func(Request) *Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rule = rule
}

func (p *FaultProxy) next(form url.Values) Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	p.actions[form.Get("Action")]++
	return Request{N: p.n, Action: form.Get("Action"), Form: form}
}

func (p *FaultProxy) pick(req Request) *Fault {
	p.mu.Lock()
	rule := p.rule
	p.mu.Unlock()
	if rule == nil {
		return nil
	}
	f := rule(req)
	if f != nil {
		p.mu.Lock()
		p.injected[f.Code]++
		p.mu.Unlock()
	}
	return f
}

// EveryOther refuses every second request with f, whatever it is.
func EveryOther(f Fault) func(Request) *Fault {
	return func(r Request) *Fault {
		if r.N%2 == 0 {
			return &f
		}
		return nil
	}
}

// writeFault answers as EC2 does: the HTTP status and an XML error document.
func writeFault(w http.ResponseWriter, f Fault) {
	type errXML struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	doc := struct {
		XMLName   xml.Name `xml:"Response"`
		Errors    []errXML `xml:"Errors>Error"`
		RequestID string   `xml:"RequestID"`
	}{Errors: []errXML{{Code: f.Code, Message: f.Message}}, RequestID: fmt.Sprintf("fault-%s", f.Code)}
	out, _ := xml.Marshal(doc)
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(f.Status)
	_, _ = w.Write(append([]byte(xml.Header), out...))
}

// RateLimited throttles as EC2 does: requests draw from a bucket of burst tokens refilled at
// perSecond; a request finding it empty is refused with RequestLimitExceeded. A client that
// slows down gets through; one that does not keeps being refused.
func RateLimited(perSecond float64, burst int) func(Request) *Fault {
	var mu sync.Mutex
	tokens, last := float64(burst), time.Now()
	return func(Request) *Fault {
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		tokens = min(float64(burst), tokens+now.Sub(last).Seconds()*perSecond)
		last = now
		if tokens < 1 {
			f := Throttled
			return &f
		}
		tokens--
		return nil
	}
}

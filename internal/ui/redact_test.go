package ui

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
)

func TestRedactorPatterns(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"access key id", "using key AKIAIOSFODNN7EXAMPLE now", "using key **** now"},
		{"session key id", "ASIAY34FZKBOKMUTVV7A", "****"},
		{"role and user ids", "AROAJQABLZS4A3QDU576Q AIDAJQABLZS4A3QDU576Q", "**** ****"},
		{"secret access key ini", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key = ****"},
		{"session token env", "AWS_SESSION_TOKEN=FQoGZXIvYXdzEJr//////////wEaDM", "AWS_SESSION_TOKEN=****"},
		{"password colon", "password: hunter22 user: bob", "password: **** user: bob"},
		{"passwd", "passwd=abc123xyz;next", "passwd=****;next"},
		{"secret suffix", "SECRET_KEY=abcdef", "SECRET_KEY=****"},
		{"json keeps quotes", `{"password": "hunter 22", "user": "bob"}`, `{"password": "****", "user": "bob"}`},
		{"slog quoted with escapes", `msg=x token="a \"b\" c" next=1`, `msg=x token="****" next=1`},
		{"single quoted", `passwd='x y z' done`, `passwd='****' done`},
		{"query token", "X-Amz-Security-Token=abc%2Fdef&X-Amz-Date=20240101", "X-Amz-Security-Token=****&X-Amz-Date=20240101"},
		{"authorization header", "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024\nnext line",
			"Authorization: ****\nnext line"},
		{"authorization json", `{"Authorization": "Bearer abc.def"}`, `{"Authorization": "****"}`},
		{"sigv4 query", "X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20240101%2Fus-east-1&X-Amz-Signature=deadbeef01",
			"X-Amz-Credential=****&X-Amz-Signature=****"},
		{"pem block", "before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabc\n-----END RSA PRIVATE KEY-----\nafter",
			"before\n****\nafter"},
		{"pkcs8 and openssh blocks", "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----",
			"****\n****"},
		{"pem without end", "key: -----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI\nmore", "key: ****"},
		{"public key kept", "-----BEGIN PUBLIC KEY-----\nMIIBIjAN\n-----END PUBLIC KEY-----", "-----BEGIN PUBLIC KEY-----\nMIIBIjAN\n-----END PUBLIC KEY-----"},
		{"status line kept", "✓ cluster user (64/64 nodes, 3.1s)", "✓ cluster user (64/64 nodes, 3.1s)"},
		{"ordinary text kept", "instance i-0abc123 in us-east-1a, key name: mykey", "instance i-0abc123 in us-east-1a, key name: mykey"},
		{"prompt without value kept", "Enter password: ", "Enter password: "},
		{"already masked", "password=****", "password=****"},
	}
	r := NewRedactor()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.String(tt.in); got != tt.want {
				t.Errorf("String(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRedactorRegistered(t *testing.T) {
	tests := []struct {
		name    string
		secrets []string
		in      string
		want    string
	}{
		{"exact value", []string{"s3cr3tvalue"}, "connecting with s3cr3tvalue to host", "connecting with **** to host"},
		{"short values ignored", []string{"abc", "12345"}, "abc 12345", "abc 12345"},
		{"six characters masked", []string{"abcdef"}, "xabcdefx", "x****x"},
		{"url encoded form", []string{"wJal/rXU+tnFE"}, "q=wJal%2FrXU%2BtnFE&x=1", "q=****&x=1"},
		{"longest first", []string{"longsecret", "longsecret12345"}, "v longsecret12345 v", "v **** v"},
		{"repeated", []string{"repeatme"}, "repeatme/repeatme", "****/****"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Redactor // the zero value must work
			r.Add(tt.secrets...)
			if got := r.String(tt.in); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRedactWriter(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"plain", []string{"hello ", "world\n"}, "hello world\n"},
		{"registered", []string{"token-less mysecretvalue\n"}, "token-less ****\n"},
		{"pem over writes", []string{"-----BEGIN RSA PRIVATE KEY-----\n", "MIIEowIBAAKCAQEA\n", "abcd\n", "-----END RSA PRIVATE KEY-----\nafter\n"},
			"****" + "****" + "****" + "****\nafter\n"},
		{"pem closed in one write", []string{"-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----\n", "after\n"}, "****\nafter\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRedactor()
			r.Add("mysecretvalue")
			var sb strings.Builder
			w := r.Writer(&sb)
			for _, p := range tt.writes {
				n, err := w.Write([]byte(p))
				if err != nil || n != len(p) {
					t.Fatalf("Write(%q) = %d, %v; want %d, nil", p, n, err, len(p))
				}
			}
			if got := sb.String(); got != tt.want {
				t.Errorf("output = %q, want %q", got, tt.want)
			}
		})
	}
}

// failWriter fails every write.
type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }

func TestRedactWriterError(t *testing.T) {
	errDisk := errors.New("disk full")
	n, err := NewRedactor().Writer(failWriter{errDisk}).Write([]byte("data"))
	if n != 0 || !errors.Is(err, errDisk) {
		t.Errorf("Write = %d, %v; want 0 and an error wrapping %v", n, err, errDisk)
	}
}

func TestRedactorConcurrent(t *testing.T) {
	r := NewRedactor()
	w := r.Writer(io.Discard)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			secret := fmt.Sprintf("concurrent-secret-%d", i)
			r.Add(secret)
			_, _ = fmt.Fprintf(w, "line %s\n", secret)
			if got := r.String(secret); got != Mask {
				t.Errorf("String(%q) = %q right after Add", secret, got)
			}
		}()
	}
	wg.Wait()
}

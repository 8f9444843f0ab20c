package remote

import (
	"strings"
	"testing"
)

func TestCheckDialAllowed(t *testing.T) {
	t.Setenv(DialAllowEnv, "127.0.0.0/8, 10.213.0.0/16")
	for _, tt := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:22", true},
		{"10.213.4.10:22", true},
		{"54.214.116.108:22", false},
		{"example.org:22", false},
		{"[::1]:22", false},
	} {
		err := checkDialAllowed(tt.addr)
		if (err == nil) != tt.ok || (err != nil && !strings.Contains(err.Error(), DialAllowEnv)) {
			t.Errorf("%s: %v", tt.addr, err)
		}
	}
	t.Setenv(DialAllowEnv, "")
	if err := checkDialAllowed("54.214.116.108:22"); err != nil {
		t.Errorf("without the variable every address is allowed: %v", err)
	}
}

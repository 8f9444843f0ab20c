package cloud

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func TestRecordRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	noise := make([]byte, 3000)
	for i := range noise {
		noise[i] = byte(rng.IntN(256))
	}
	cases := map[string][]byte{
		"small":        []byte(`{"cluster_size":2}`),
		"incompressed": noise,
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			tags := EncodeRecord(data)
			for k, v := range tags {
				if len(v) > MaxTagValue {
					t.Fatalf("tag %s has %d chars, limit %d", k, len(v), MaxTagValue)
				}
			}
			if len(data) > 1000 && len(tags) < 2 {
				t.Fatalf("expected several chunks for %d bytes, got %d", len(data), len(tags))
			}
			got, err := DecodeRecord(tags)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("round trip changed the record")
			}
		})
	}
	if got, err := DecodeRecord(map[string]string{"Name": "x"}); got != nil || err != nil {
		t.Fatalf("no record: got %q, %v", got, err)
	}
	if _, err := DecodeRecord(map[string]string{TagTemplate: "!!notbase64"}); err == nil {
		t.Fatal("corrupt record decoded without error")
	}
}

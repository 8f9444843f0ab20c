package cloud

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
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

// TestRecordDecodeBounds: tags holding a zlib bomb or more chunks than clusterctl writes are
// refused instead of being expanded.
func TestRecordDecodeBounds(t *testing.T) {
	bomb := EncodeRecord(bytes.Repeat([]byte{'a'}, 4*MaxRecordSize))
	if len(bomb) > maxRecordChunks {
		t.Fatalf("the bomb needs %d tags; it must fit the %d a record may take to be a real attack", len(bomb), maxRecordChunks)
	}
	if _, err := DecodeRecord(bomb); err == nil || !strings.Contains(err.Error(), "expands beyond") {
		t.Errorf("zlib bomb: %v", err)
	}
	many := map[string]string{}
	for i := 0; i <= maxRecordChunks; i++ {
		many[chunkKey(i)] = "AAAA"
	}
	if _, err := DecodeRecord(many); err == nil || !strings.Contains(err.Error(), chunkKey(maxRecordChunks)) {
		t.Errorf("too many chunks: %v", err)
	}
}

// TestRecordSeal: a record passes the seal made from it and fails any other; a description
// without a seal (clusters made before seals) passes.
func TestRecordSeal(t *testing.T) {
	rec := []byte(`{"cluster_size":2}`)
	desc := "clusterctl cluster x " + RecordSeal(rec)
	if err := CheckRecordSeal(desc, rec); err != nil {
		t.Errorf("own seal: %v", err)
	}
	if err := CheckRecordSeal(desc, []byte(`{"cluster_size":3}`)); !errors.Is(err, ErrRecordTampered) || !strings.Contains(err.Error(), TagTemplate) {
		t.Errorf("changed record: %v", err)
	}
	if err := CheckRecordSeal("clusterctl cluster x", rec); err != nil {
		t.Errorf("unsealed: %v", err)
	}
}

func FuzzRecordSeal(f *testing.F) {
	f.Add("clusterctl cluster x record sha256:", []byte("{}"))
	f.Add("record sha256:00 trailing", []byte(""))
	f.Fuzz(func(t *testing.T, desc string, rec []byte) {
		_ = CheckRecordSeal(desc, rec)
		if err := CheckRecordSeal(desc+" "+RecordSeal(rec), rec); err != nil && !strings.Contains(desc, sealPrefix) {
			t.Fatalf("own seal refused: %v", err)
		}
	})
}

// FuzzDecodeRecord: whatever the tags hold, decoding returns a bounded record or an error.
func FuzzDecodeRecord(f *testing.F) {
	for _, data := range [][]byte{[]byte(`{"v":1}`), bytes.Repeat([]byte("a"), 4096)} {
		tags := EncodeRecord(data)
		f.Add(tags[TagTemplate], tags[TagTemplate+"-1"])
	}
	f.Add("eJzLSM3JyQcABiwCFQ==", "")
	f.Add("!!", "AAAA")
	f.Fuzz(func(t *testing.T, a, b string) {
		out, err := DecodeRecord(map[string]string{TagTemplate: a, TagTemplate + "-1": b})
		if err == nil && len(out) > MaxRecordSize {
			t.Fatalf("decoded %d bytes", len(out))
		}
	})
}

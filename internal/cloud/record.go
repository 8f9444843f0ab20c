package cloud

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// MaxTagValue is EC2's limit on a tag value; recorded templates are chunked to fit it.
const MaxTagValue = 256

// MaxRecordTags is how many tags a recorded template may take: EC2 allows 50 tags per resource,
// and the security group carries a few of its own (cluster, Name, a lease) besides the record.
const MaxRecordTags = 40

// EncodeRecord compresses a recorded template and splits it into tag values of at most
// MaxTagValue characters under TagTemplate, TagTemplate-1, TagTemplate-2, ... Compression keeps
// a typical template within a handful of tags, well under EC2's 50 tags per resource.
func EncodeRecord(data []byte) map[string]string {
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	_, _ = zw.Write(data) // writes to a bytes.Buffer cannot fail
	_ = zw.Close()
	enc := base64.StdEncoding.EncodeToString(buf.Bytes())
	tags := map[string]string{}
	for i := 0; len(enc) > 0; i++ {
		n := min(MaxTagValue, len(enc))
		tags[chunkKey(i)] = enc[:n]
		enc = enc[n:]
	}
	return tags
}

// Bounds on a record read back from tags, which anyone allowed to tag the resource can write:
// EC2 allows 50 tags of 256 characters per resource, and a real record decompresses to a few
// KB, so a zlib bomb in the tags is refused instead of filling memory.
const (
	maxRecordChunks = MaxRecordTags
	// MaxRecordSize is the most a decompressed record may hold.
	MaxRecordSize = 1 << 20
)

// DecodeRecord reassembles a template recorded by EncodeRecord from a resource's tags. It
// returns nil, nil when the resource carries no record.
func DecodeRecord(tags map[string]string) ([]byte, error) {
	var sb strings.Builder
	for i := 0; ; i++ {
		v, ok := tags[chunkKey(i)]
		if !ok {
			break
		}
		if i >= maxRecordChunks || len(v) > MaxTagValue {
			return nil, fmt.Errorf("decode recorded template: tag %s is beyond what clusterctl writes", chunkKey(i))
		}
		sb.WriteString(v)
	}
	if sb.Len() == 0 {
		return nil, nil
	}
	raw, err := base64.StdEncoding.DecodeString(sb.String())
	if err != nil {
		return nil, fmt.Errorf("decode recorded template (tag %s): %w", TagTemplate, err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("decompress recorded template (tag %s): %w", TagTemplate, err)
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, MaxRecordSize+1))
	if err != nil {
		return nil, fmt.Errorf("decompress recorded template (tag %s): %w", TagTemplate, err)
	}
	if len(out) > MaxRecordSize {
		return nil, fmt.Errorf("decompress recorded template (tag %s): it expands beyond %d KB, far more than any template", TagTemplate, MaxRecordSize>>10)
	}
	return out, nil
}

// sealPrefix introduces a record's digest in a text that cannot change after creation (an
// EC2 security group's description).
const sealPrefix = "record sha256:"

// RecordSeal is the text that pins a record: its SHA-256, which EC2 keeps in the security
// group's description, fixed at creation. Tags can be rewritten by anyone allowed
// ec2:CreateTags; the description cannot be changed at all.
func RecordSeal(data []byte) string {
	sum := sha256.Sum256(data)
	return sealPrefix + hex.EncodeToString(sum[:])
}

// HasRecordSeal reports whether text (a group description) carries a record's seal.
func HasRecordSeal(text string) bool { return strings.Contains(text, sealPrefix) }

// ErrRecordTampered means a record's tags no longer match the seal written at creation.
var ErrRecordTampered = errors.New("the recorded template does not match the seal set when the cluster was created")

// CheckRecordSeal verifies data against the seal found in text (a group description). A text
// without a seal (a cluster made before seals existed) passes: its record is still checked
// value by value when decoded.
func CheckRecordSeal(text string, data []byte) error {
	i := strings.Index(text, sealPrefix)
	if i < 0 {
		return nil
	}
	digest, _, _ := strings.Cut(text[i+len(sealPrefix):], " ")
	if sealPrefix+digest != RecordSeal(data) {
		return fmt.Errorf("%w (tags %s*): they were changed afterwards", ErrRecordTampered, TagTemplate)
	}
	return nil
}

func chunkKey(i int) string {
	if i == 0 {
		return TagTemplate
	}
	return TagTemplate + "-" + strconv.Itoa(i)
}

package cloud

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
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

// DecodeRecord reassembles a template recorded by EncodeRecord from a resource's tags. It
// returns nil, nil when the resource carries no record.
func DecodeRecord(tags map[string]string) ([]byte, error) {
	var sb strings.Builder
	for i := 0; ; i++ {
		v, ok := tags[chunkKey(i)]
		if !ok {
			break
		}
		sb.WriteString(v)
	}
	if sb.Len() == 0 {
		return nil, nil
	}
	raw, err := base64.StdEncoding.DecodeString(sb.String())
	if err != nil {
		return nil, fmt.Errorf("decode recorded template: %w", err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("decompress recorded template: %w", err)
	}
	defer zr.Close()
	out, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("decompress recorded template: %w", err)
	}
	return out, nil
}

func chunkKey(i int) string {
	if i == 0 {
		return TagTemplate
	}
	return TagTemplate + "-" + strconv.Itoa(i)
}

package ec2

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// A RunInstances call tags every instance it starts alike (TagSpecifications), and tagging them
// one by one afterwards costs a CreateTags per instance: a thousand for a thousand-node
// cluster. So a call that starts several instances names them all at launch, in tags every
// instance of the call shares, indexed by the launch index EC2 gives each instance (the same
// index cloud-init picks the instance's host key by):
//
//   - cloud.TagAliases lists the call's aliases in launch-index order, runs of numbered
//     aliases as ranges: "node001..node100";
//   - cloud.TagHostKeys, cloud.TagHostKeys-1, ... hold their ed25519 host keys in the same
//     order, each the 43 characters of the raw key in unpadded base64, five to a tag.
//
// A call that starts one instance tags it as before, with its own cloud.TagAlias and
// cloud.TagHostKey. Both forms are read back by toInstance; both are as untrusted as any tag
// and pass the same checks before use.

// Bounds of one call's shared tags: EC2 allows 50 tags on a resource and 256 characters in a
// value.
const (
	maxTagValue = 256
	// keyChars is one host key's length in a TagHostKeys value.
	keyChars = 43
	// keysPerTag is how many host keys one tag value holds.
	keysPerTag = maxTagValue / keyChars
	// maxBatch is the most instances one call names: their keys take 20 tags.
	maxBatch = 100
)

// batchTags returns the tags naming a call's instances: its aliases and, when every alias has
// one, their host keys (hostKeys maps alias to an authorized_keys line).
func batchTags(tag string, aliases []string, hostKeys map[string]string) (map[string]string, error) {
	if len(aliases) == 1 {
		a := aliases[0]
		out := map[string]string{cloud.TagAlias: a, cloud.TagName: tag + "-" + a}
		if k := hostKeys[a]; k != "" {
			out[cloud.TagHostKey] = k
		}
		return out, nil
	}
	list := encodeAliases(aliases)
	if len(list) > maxTagValue {
		return nil, fmt.Errorf("the aliases of one launch take %d characters, over EC2's %d for a tag value", len(list), maxTagValue)
	}
	out := map[string]string{cloud.TagAliases: list, cloud.TagName: truncate(tag+"-"+list, maxTagValue)}
	var keys strings.Builder
	for _, a := range aliases {
		raw, err := rawHostKey(hostKeys[a])
		if err != nil {
			return out, nil // no key tags: the instances are named, their keys unknown
		}
		keys.WriteString(base64.RawStdEncoding.EncodeToString(raw))
	}
	all := keys.String()
	for i := 0; i*keysPerTag*keyChars < len(all); i++ {
		chunk := all[i*keysPerTag*keyChars : min((i+1)*keysPerTag*keyChars, len(all))]
		out[hostKeysTag(i)] = chunk
	}
	return out, nil
}

// hostKeysTag is the key of the i-th tag of host keys.
func hostKeysTag(i int) string {
	if i == 0 {
		return cloud.TagHostKeys
	}
	return cloud.TagHostKeys + "-" + strconv.Itoa(i)
}

// rawHostKey returns the 32 bytes of an ssh-ed25519 authorized_keys line.
func rawHostKey(line string) ([]byte, error) {
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return nil, err
	}
	ck, ok := pub.(ssh.CryptoPublicKey)
	if !ok {
		return nil, errors.New("not an ed25519 key")
	}
	k, ok := ck.CryptoPublicKey().(ed25519.PublicKey)
	if !ok {
		return nil, errors.New("not an ed25519 key")
	}
	return k, nil
}

// batchMember returns the alias and host key that a call's shared tags give the instance with
// launch index idx: ok is false when the instance has no such tags. An alias that cannot be
// read is returned as the raw tag value, which the membership checks refuse as a host name.
func batchMember(tags map[string]string, idx int) (alias, hostKey string, ok bool) {
	list, ok := tags[cloud.TagAliases]
	if !ok {
		return "", "", false
	}
	aliases, err := decodeAliases(list, maxBatch)
	if err != nil || idx < 0 || idx >= len(aliases) {
		return list, "", true
	}
	var keys strings.Builder
	for i := 0; ; i++ {
		v, ok := tags[hostKeysTag(i)]
		if !ok {
			break
		}
		keys.WriteString(v)
	}
	all := keys.String()
	if (idx+1)*keyChars > len(all) {
		return aliases[idx], "", true
	}
	raw, err := base64.RawStdEncoding.DecodeString(all[idx*keyChars : (idx+1)*keyChars])
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return aliases[idx], "invalid", true // refused by the membership checks
	}
	pub, err := ssh.NewPublicKey(ed25519.PublicKey(raw))
	if err != nil {
		return aliases[idx], "invalid", true
	}
	return aliases[idx], strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))), true
}

// encodeAliases joins aliases with commas, writing each run of consecutively numbered aliases
// of one prefix and width as "first..last".
func encodeAliases(aliases []string) string {
	var items []string
	for i := 0; i < len(aliases); {
		prefix, n, width, numbered := splitNumber(aliases[i])
		j := i + 1
		for numbered && j < len(aliases) {
			p, m, w, ok := splitNumber(aliases[j])
			if !ok || p != prefix || w != width || m != n+(j-i) {
				break
			}
			j++
		}
		if j-i >= 3 {
			items = append(items, aliases[i]+".."+aliases[j-1])
		} else {
			items = append(items, aliases[i:j]...)
		}
		i = j
	}
	return strings.Join(items, ",")
}

// decodeAliases reads encodeAliases's form, refusing more than limit aliases (a tag anyone may
// rewrite must not expand to millions of names).
func decodeAliases(v string, limit int) ([]string, error) {
	var out []string
	for _, item := range strings.Split(v, ",") {
		first, last, isRange := strings.Cut(item, "..")
		switch {
		case item == "":
			return nil, errors.New("an empty alias")
		case !isRange:
			out = append(out, item)
		default:
			p1, a, w1, ok1 := splitNumber(first)
			p2, b, w2, ok2 := splitNumber(last)
			if !ok1 || !ok2 || p1 != p2 || w1 != w2 || b < a || b-a >= limit {
				return nil, fmt.Errorf("bad range %q", item)
			}
			for n := a; n <= b && len(out) <= limit; n++ {
				out = append(out, fmt.Sprintf("%s%0*d", p1, w1, n))
			}
		}
		if len(out) > limit {
			return nil, fmt.Errorf("more than %d aliases", limit)
		}
	}
	return out, nil
}

// splitNumber splits "node007" into "node", 7 and width 3; ok is false without a number.
func splitNumber(s string) (prefix string, n, width int, ok bool) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	if i == len(s) || len(s)-i > 9 {
		return s, 0, 0, false
	}
	n, err := strconv.Atoi(s[i:])
	return s[:i], n, len(s) - i, err == nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

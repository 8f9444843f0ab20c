package ec2

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"

	"golang.org/x/crypto/ssh"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// launchBatch is one RunInstances call of a launch request: its aliases, in launch-index order,
// and the user data that carries their host keys.
type launchBatch struct {
	aliases  []string
	userData []byte
}

// launchBatches splits a request's aliases into as few RunInstances calls as EC2's limits
// allow: at most maxBatch instances whose aliases fit one tag value (batchTags names them at
// launch), and user data under EC2's limit, measured on the real user data (host keys and boot
// scripts included), with sizes as even as possible. Every host key adds about 140 compressed
// bytes, so one call carries about a hundred instances, fewer with long boot scripts. It fails,
// before anything is launched, only when the user data of a single instance is over the limit.
func launchBatches(aliases []string, boot cloud.BootConfig) ([]launchBatch, error) {
	var out []launchBatch
	for _, group := range tagGroups(aliases) {
		batches, err := userDataBatches(group, boot)
		if err != nil {
			return nil, err
		}
		out = append(out, batches...)
	}
	return out, nil
}

// tagGroups splits aliases into groups of near-equal size that batchTags can name: at most
// maxBatch each, their list within a tag value.
func tagGroups(aliases []string) [][]string {
	n := (len(aliases) + maxBatch - 1) / maxBatch
	var out [][]string
	start := 0
	for i := range n {
		end := start + (len(aliases)-start)/(n-i)
		out = append(out, splitByTagValue(aliases[start:end])...)
		start = end
	}
	return out
}

// splitByTagValue splits aliases where their encoded list would outgrow a tag value.
func splitByTagValue(aliases []string) [][]string {
	if len(aliases) <= 1 || len(encodeAliases(aliases)) <= maxTagValue {
		return [][]string{aliases}
	}
	half := len(aliases) / 2
	return append(splitByTagValue(aliases[:half]), splitByTagValue(aliases[half:])...)
}

// userDataBatches splits aliases into as few calls as EC2's user-data limit allows.
func userDataBatches(aliases []string, boot cloud.BootConfig) ([]launchBatch, error) {
	if len(aliases) == 0 {
		return nil, nil
	}
	one, err := buildUserData(aliases[:1], boot)
	if err != nil {
		return nil, err
	}
	if len(one) > maxUserData {
		return nil, fmt.Errorf("the user data of one instance is %d bytes after compression, over EC2's limit of %d bytes: shorten USERDATA_SCRIPTS (%d bytes of scripts)",
			len(one), maxUserData, scriptBytes(boot))
	}
	all, err := buildUserData(aliases, boot)
	if err != nil {
		return nil, err
	}
	// n calls hold n copies of the shared parts, so they need at least as many bytes as one
	// call with everything: the total size divided by the limit is where to start looking.
	for n := (len(all) + maxUserData - 1) / maxUserData; n <= len(aliases); n++ {
		if n == 1 {
			return []launchBatch{{aliases: aliases, userData: all}}, nil
		}
		batches, ok, err := splitEvenly(aliases, n, boot)
		if err != nil {
			return nil, err
		}
		if ok {
			return batches, nil
		}
	}
	return nil, fmt.Errorf("no split of %d instances fits EC2's user data limit", len(aliases)) // one per call always fits
}

// splitEvenly builds the user data of n calls of near-equal size and reports whether all fit.
func splitEvenly(aliases []string, n int, boot cloud.BootConfig) ([]launchBatch, bool, error) {
	batches := make([]launchBatch, 0, n)
	start := 0
	for i := range n {
		end := start + (len(aliases)-start)/(n-i)
		ud, err := buildUserData(aliases[start:end], boot)
		if err != nil {
			return nil, false, err
		}
		batches = append(batches, launchBatch{aliases: aliases[start:end], userData: ud})
		if len(ud) > maxUserData {
			return batches, false, nil
		}
		start = end
	}
	return batches, true, nil
}

func scriptBytes(boot cloud.BootConfig) int {
	n := 0
	for _, s := range boot.Scripts {
		n += len(s.Content)
	}
	return n
}

// withHostKeys returns boot with a host key for every alias: its own where it has one, else a
// freshly generated stand-in, so that a size check measures the user data with every key it
// will carry (ed25519 keys all have the same size) even when the caller has not generated them.
func withHostKeys(aliases []string, boot cloud.BootConfig) cloud.BootConfig {
	keys := make(map[string][]byte, len(aliases))
	for _, a := range aliases {
		if k, ok := boot.HostKeys[a]; ok {
			keys[a] = k
			continue
		}
		_, priv, _ := ed25519.GenerateKey(rand.Reader) // crypto/rand never fails
		block, _ := ssh.MarshalPrivateKey(priv, "root@"+a)
		keys[a] = pem.EncodeToMemory(block)
	}
	boot.HostKeys = keys
	return boot
}

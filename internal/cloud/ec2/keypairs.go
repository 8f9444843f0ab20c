package ec2

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// KeyPair is an EC2 key pair as listkeypairs shows it. The private key is never part of it:
// EC2 hands it out once, from CreateKeyPair.
type KeyPair struct {
	Name        string    `json:"name"`
	ID          string    `json:"id"`
	Type        string    `json:"type"`
	Fingerprint string    `json:"fingerprint"`
	Created     time.Time `json:"created"`
}

// KeyPairs lists the region's key pairs, sorted by name (listkeypairs).
func (p *Provider) KeyPairs(ctx context.Context) ([]KeyPair, error) {
	out, err := p.api.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{})
	if err != nil {
		return nil, fmt.Errorf("list key pairs: %w", err)
	}
	keys := make([]KeyPair, len(out.KeyPairs))
	for i, k := range out.KeyPairs {
		keys[i] = toKeyPair(k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Name < keys[j].Name })
	return keys, nil
}

// CreateKeyPair creates a key pair of keyType ("rsa" or "ed25519"; empty means ed25519) and
// returns it with the PEM private key, which EC2 never shows again: the caller must save it
// (mode 0600) before doing anything else (createkey).
func (p *Provider) CreateKeyPair(ctx context.Context, name, keyType string) (KeyPair, []byte, error) {
	if keyType == "" {
		keyType = string(types.KeyTypeEd25519)
	}
	out, err := p.api.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String(name), KeyType: types.KeyType(keyType)})
	if isCode(err, codeKeyPairDuplicate) {
		return KeyPair{}, nil, fmt.Errorf("key pair %s: %w", name, cloud.ErrExists)
	}
	if err != nil {
		return KeyPair{}, nil, fmt.Errorf("create key pair %s: %w", name, err)
	}
	kp := KeyPair{Name: aws.ToString(out.KeyName), ID: aws.ToString(out.KeyPairId), Type: keyType,
		Fingerprint: aws.ToString(out.KeyFingerprint), Created: time.Now().UTC()}
	return kp, []byte(aws.ToString(out.KeyMaterial)), nil
}

// ImportKeyPair registers an existing OpenSSH public key (createkey --import-key), so a user
// keeps their own private key.
func (p *Provider) ImportKeyPair(ctx context.Context, name string, publicKey []byte) (KeyPair, error) {
	out, err := p.api.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String(name), PublicKeyMaterial: publicKey})
	if isCode(err, codeKeyPairDuplicate) {
		return KeyPair{}, fmt.Errorf("key pair %s: %w", name, cloud.ErrExists)
	}
	if err != nil {
		return KeyPair{}, fmt.Errorf("import key pair %s: %w", name, err)
	}
	return KeyPair{Name: aws.ToString(out.KeyName), ID: aws.ToString(out.KeyPairId),
		Fingerprint: aws.ToString(out.KeyFingerprint), Created: time.Now().UTC()}, nil
}

// DeleteKeyPair deletes a key pair (removekey). EC2 treats deleting a missing key as success,
// so this does too.
func (p *Provider) DeleteKeyPair(ctx context.Context, name string) error {
	if _, err := p.api.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String(name)}); err != nil && !isCode(err, codeKeyPairNotFound) {
		return fmt.Errorf("delete key pair %s: %w", name, err)
	}
	return nil
}

func toKeyPair(k types.KeyPairInfo) KeyPair {
	return KeyPair{
		Name:        aws.ToString(k.KeyName),
		ID:          aws.ToString(k.KeyPairId),
		Type:        string(k.KeyType),
		Fingerprint: aws.ToString(k.KeyFingerprint),
		Created:     aws.ToTime(k.CreateTime),
	}
}

package ec2

import (
	"crypto"
	"crypto/ed25519"
	"crypto/md5"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
)

// fingerprint is one way EC2 may have fingerprinted a key pair, computed from the local key.
type fingerprint struct {
	rule  string // which rule produced it, for debugging
	value string
}

// keyFingerprints returns every fingerprint EC2 (or moto) may have recorded for the key pair
// whose private key is pemBytes. EC2 uses different rules by key origin:
//
//   - RSA created by EC2: SHA-1 of the PKCS#8 DER private key, hex with colons;
//   - RSA imported: MD5 of the public key, hex with colons. The API reference says RFC 4716
//     (MD5 of the SSH wire format); AWS's own verification recipe and observed fingerprints use
//     the DER SubjectPublicKeyInfo; both are accepted;
//   - ed25519 (created or imported): base64 SHA-256 of the SSH wire format, as OpenSSH prints it.
//
// moto differs for two of them and is supported so tests run against it: EC2-created RSA is
// SHA-1 of the DER public key, and ed25519 is hex SHA-256 of the DER public key.
//
// For a passphrase-protected OpenSSH key only the public half is readable, so the rules that
// need the private key are skipped.
func keyFingerprints(pemBytes []byte) ([]fingerprint, error) {
	key, err := ssh.ParseRawPrivateKey(pemBytes)
	var pub crypto.PublicKey
	var fps []fingerprint
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing) && missing.PublicKey != nil:
		ck, ok := missing.PublicKey.(ssh.CryptoPublicKey)
		if !ok {
			return nil, fmt.Errorf("unsupported key type %s", missing.PublicKey.Type())
		}
		pub = ck.CryptoPublicKey()
	case err != nil:
		return nil, fmt.Errorf("parse private key: %w", err)
	default:
		switch k := key.(type) {
		case *rsa.PrivateKey:
			der, err := x509.MarshalPKCS8PrivateKey(k)
			if err != nil {
				return nil, fmt.Errorf("encode private key: %w", err)
			}
			fps = append(fps, fingerprint{"aws-created-rsa", hexColons(sha1Sum(der))})
			pub = &k.PublicKey
		case ed25519.PrivateKey:
			pub = k.Public()
		case *ed25519.PrivateKey:
			pub = k.Public()
		default:
			return nil, fmt.Errorf("unsupported key type %T (EC2 key pairs are RSA or ed25519)", key)
		}
	}
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	wire := sshPub.Marshal()
	switch pub.(type) {
	case *rsa.PublicKey:
		md5SPKI := md5.Sum(spki)
		md5Wire := md5.Sum(wire)
		fps = append(fps,
			fingerprint{"aws-imported-rsa", hexColons(md5SPKI[:])},
			fingerprint{"aws-imported-rsa-rfc4716", hexColons(md5Wire[:])},
			fingerprint{"moto-created-rsa", hexColons(sha1Sum(spki))})
	case ed25519.PublicKey:
		wireSum := sha256.Sum256(wire)
		spkiSum := sha256.Sum256(spki)
		fps = append(fps,
			fingerprint{"aws-ed25519", base64.StdEncoding.EncodeToString(wireSum[:])},
			fingerprint{"moto-ed25519", hexColons(spkiSum[:])})
	}
	return fps, nil
}

// matchFingerprint reports whether EC2's fingerprint equals any local candidate, and returns
// the candidate to show in a mismatch message: the first one of the same shape as EC2's.
func matchFingerprint(ec2FP string, local []fingerprint) (bool, string) {
	want := normalizeFingerprint(ec2FP)
	show := ""
	for _, fp := range local {
		got := normalizeFingerprint(fp.value)
		if got == want {
			return true, fp.value
		}
		if show == "" && sameShape(got, want) {
			show = fp.value
		}
	}
	if show == "" && len(local) > 0 {
		show = local[0].value
	}
	return false, show
}

// normalizeFingerprint makes hex case and base64 padding (and OpenSSH's "SHA256:" prefix)
// irrelevant to the comparison.
func normalizeFingerprint(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "SHA256:")
	if isHexColons(s) {
		return strings.ToLower(s)
	}
	return strings.TrimRight(s, "=")
}

// sameShape reports whether two normalized fingerprints have the same encoding and length.
func sameShape(a, b string) bool {
	return isHexColons(a) == isHexColons(b) && len(a) == len(b)
}

func isHexColons(s string) bool {
	if len(s) < 2 || !strings.Contains(s, ":") {
		return false
	}
	_, err := hex.DecodeString(strings.ReplaceAll(s, ":", ""))
	return err == nil
}

func sha1Sum(b []byte) []byte {
	s := sha1.Sum(b)
	return s[:]
}

// hexColons formats a digest the way EC2 prints RSA fingerprints: aa:bb:cc.
func hexColons(b []byte) string {
	h := hex.EncodeToString(b)
	var sb strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			sb.WriteByte(':')
		}
		sb.WriteString(h[i : i+2])
	}
	return sb.String()
}

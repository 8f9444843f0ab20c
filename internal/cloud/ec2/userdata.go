package ec2

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// maxUserData is EC2's limit on user data, counted on the raw bytes before base64.
const maxUserData = 16 * 1024

// userDataPart is one MIME part of the user data.
type userDataPart struct {
	kind, name, body string
	// launchIndex, when set, makes cloud-init use the part only on the instance with that
	// ami-launch-index (cloud-init's Launch-Index header).
	launchIndex *int
}

// buildUserData renders the cloud-init user data for one RunInstances call that launches the
// given aliases: a gzip-compressed MIME multipart that cloud-init reads as
//
//   - one text/cloud-config part for every instance (sharedCloudConfig: authorized login keys,
//     host key policy, the bootcmd that keeps the metadata service to root);
//   - one text/cloud-config part per instance with a Launch-Index header holding the ed25519
//     host key clusterctl generated and pinned for that alias (hostKeyConfig). cloud-init
//     drops the parts whose index is not the instance's own ami-launch-index, and Launch names
//     instance i after aliases[i] by the same index, so each instance installs only its own key
//     and the first SSH connection is verified;
//   - one text/x-shellscript part per boot script, named so that cloud-init, which runs them
//     in the order of their names, runs them in config order.
//
// All instances of one call share this user data, so its raw form holds the keys of the call's
// instances; the bootcmd keeps it from every local user but root (README: host keys).
func buildUserData(aliases []string, boot cloud.BootConfig) ([]byte, error) {
	parts, err := userDataParts(aliases, boot)
	if err != nil {
		return nil, err
	}
	var mime bytes.Buffer
	mw := multipart.NewWriter(&mime)
	// A boundary derived from the content keeps the user data reproducible, so the size
	// measured in pre-flight is the size sent, and cannot occur inside any part.
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p.body))
	}
	if err := mw.SetBoundary("clusterctl-" + hex.EncodeToString(h.Sum(nil))[:40]); err != nil {
		return nil, fmt.Errorf("user data: %w", err)
	}
	fmt.Fprintf(&mime, "Content-Type: multipart/mixed; boundary=%q\r\nMIME-Version: 1.0\r\n\r\n", mw.Boundary())
	for _, part := range parts {
		hdr := textproto.MIMEHeader{}
		hdr.Set("Content-Type", part.kind+`; charset="utf-8"`)
		hdr.Set("MIME-Version", "1.0")
		hdr.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", part.name))
		if part.launchIndex != nil {
			hdr.Set("Launch-Index", strconv.Itoa(*part.launchIndex))
		}
		w, err := mw.CreatePart(hdr)
		if err != nil {
			return nil, fmt.Errorf("user data part %s: %w", part.name, err)
		}
		if _, err := w.Write([]byte(part.body)); err != nil {
			return nil, fmt.Errorf("user data part %s: %w", part.name, err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("user data: %w", err)
	}
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestCompression) // the level is valid
	_, _ = zw.Write(mime.Bytes())                            // writes to a bytes.Buffer cannot fail
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress user data: %w", err)
	}
	return out.Bytes(), nil
}

// userDataParts lists the parts of buildUserData in order, checking the boot scripts.
func userDataParts(aliases []string, boot cloud.BootConfig) ([]userDataPart, error) {
	parts := []userDataPart{{kind: "text/cloud-config", name: "clusterctl.cfg", body: sharedCloudConfig(boot)}}
	if len(boot.HostKeys) > 0 {
		for i, alias := range aliases {
			raw, ok := boot.HostKeys[alias]
			if !ok {
				return nil, fmt.Errorf("no host key for %s", alias)
			}
			body, err := hostKeyConfig(raw)
			if err != nil {
				return nil, fmt.Errorf("host key for %s: %w", alias, err)
			}
			parts = append(parts, userDataPart{kind: "text/cloud-config", name: "host-key-" + alias + ".cfg", body: body, launchIndex: &i})
		}
	}
	names := scriptPartNames(boot.Scripts)
	for i, s := range boot.Scripts {
		if err := CheckBootScript(s.Content); err != nil {
			return nil, fmt.Errorf("boot script %s: %w", s.Name, err)
		}
		parts = append(parts, userDataPart{kind: "text/x-shellscript", name: names[i], body: string(s.Content)})
	}
	return parts, nil
}

// CheckBootScript refuses what cloud-init cannot run as a boot script: one without a "#!"
// interpreter line fails at boot with "Exec format error" and leaves cloud-init in error.
func CheckBootScript(content []byte) error {
	if !bytes.HasPrefix(content, []byte("#!")) {
		return fmt.Errorf(`it does not start with an interpreter line such as "#!/bin/sh" (cloud-init executes it as a program)`)
	}
	line, _, _ := bytes.Cut(content[2:], []byte("\n"))
	if len(strings.Fields(string(line))) == 0 {
		return fmt.Errorf(`its "#!" line names no interpreter`)
	}
	return nil
}

// scriptPartNames names the boot script parts "NN-base": cloud-init writes each part to a
// file of that name and runs the files sorted by name, so the number keeps config order and
// makes names unique (two scripts both called setup.sh both run). Characters outside
// [A-Za-z0-9._-] become "_", so the name is a plain file name.
func scriptPartNames(scripts []cloud.BootScript) []string {
	width := max(2, len(strconv.Itoa(len(scripts))))
	names := make([]string, len(scripts))
	for i, s := range scripts {
		base := s.Name
		if base == "" {
			base = "script.sh"
		}
		base = strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
				return r
			}
			return '_'
		}, base)
		names[i] = fmt.Sprintf("%0*d-%s", width, i+1, base)
	}
	return names
}

// Package testenv holds what the tests of several packages must agree on about the machine they
// run on. It is imported by tests only.
package testenv

import "os"

// DefaultImageDir is where the tests cache the local provider's images: their own directory,
// apart from clusterctl's (/var/lib/clusterctl/images), so a test run never touches images that
// real clusters on the machine boot from. It survives runs because a build takes over a minute;
// `rm -rf /var/cache/clusterctl-test` removes it.
const DefaultImageDir = "/var/cache/clusterctl-test/images"

// ImageDirEnv overrides DefaultImageDir, for a checkout whose image definition differs from
// another's on the same machine.
const ImageDirEnv = "CLUSTERCTL_TEST_IMAGE_DIR"

// ImageDir is the image cache the tests share: ImageDirEnv if set, else DefaultImageDir.
func ImageDir() string {
	if d := os.Getenv(ImageDirEnv); d != "" {
		return d
	}
	return DefaultImageDir
}

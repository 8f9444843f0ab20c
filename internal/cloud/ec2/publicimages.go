package ec2

import (
	"context"
	"fmt"
	"path"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Owners of the official images PublicImages offers.
const (
	// OwnerDebian is the Debian cloud team's AWS account.
	OwnerDebian = "136693071363"
	// OwnerCanonical is Canonical's AWS account (Ubuntu).
	OwnerCanonical = "099720109477"
)

// imageFamily is one distribution line and the name pattern of its official images.
type imageFamily struct {
	name, owner, pattern string
}

// imageFamilies are the current official Debian and Ubuntu server images clusterctl suggests
// (listpublic). StarCluster's own AMIs are long gone; these are what its users launch today.
func imageFamilies() []imageFamily {
	var fams []imageFamily
	for _, arch := range []string{"amd64", "arm64"} {
		fams = append(fams,
			imageFamily{"debian-12-" + arch, OwnerDebian, "debian-12-" + arch + "-*"},
			imageFamily{"debian-13-" + arch, OwnerDebian, "debian-13-" + arch + "-*"},
			imageFamily{"ubuntu-22.04-" + arch, OwnerCanonical, "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-" + arch + "-server-*"},
			imageFamily{"ubuntu-24.04-" + arch, OwnerCanonical, "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-" + arch + "-server-*"},
		)
	}
	return fams
}

// PublicImages returns the newest available official image of each Debian 12/13 and Ubuntu
// 22.04/24.04 family (amd64 and arm64) in the region, found by owner account and name pattern
// (one DescribeImages per owner), sorted by family. Families with no image are left out.
func (p *Provider) PublicImages(ctx context.Context) ([]Image, error) {
	fams := imageFamilies()
	patterns := map[string][]string{} // owner -> name patterns
	for _, f := range fams {
		patterns[f.owner] = append(patterns[f.owner], f.pattern)
	}
	var all []types.Image
	for _, owner := range sortedKeys(patterns) {
		raw, err := p.describeImages(ctx, &ec2.DescribeImagesInput{
			Owners:  []string{owner},
			Filters: []types.Filter{filter("name", patterns[owner]...), filter("state", "available")},
		})
		if err != nil {
			return nil, fmt.Errorf("public images of %s: %w", owner, err)
		}
		all = append(all, raw...)
	}
	return newestPerFamily(fams, all), nil
}

// newestPerFamily picks, for each family, the newest available image whose owner and name
// match it, and returns them sorted by family. Images created at the same time are ordered by
// name, whose date stamp (debian-12-amd64-20250601-2000) says which is newer.
func newestPerFamily(fams []imageFamily, images []types.Image) []Image {
	newest := map[string]Image{}
	for _, im := range images {
		img := toImage(im)
		if img.State != string(types.ImageStateAvailable) {
			continue
		}
		for _, f := range fams {
			if ok, _ := path.Match(f.pattern, img.Name); !ok || f.owner != img.OwnerID {
				continue
			}
			img.Family = f.name
			cur, seen := newest[f.name]
			if !seen || img.Created.After(cur.Created) || (img.Created.Equal(cur.Created) && img.Name > cur.Name) {
				newest[f.name] = img
			}
		}
	}
	out := make([]Image, 0, len(newest))
	for _, name := range sortedKeys(newest) {
		out = append(out, newest[name])
	}
	return out
}

package ec2

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// Preflight checks a launch plan against EC2 before anything is created and returns every
// problem found, joined, so a user fixes a config in one round instead of one failed start per
// mistake (StarCluster's validator stopped at the first). It checks the key pair and the local
// key's fingerprint, images (existence, state, architecture against the instance type),
// instance types and their offering in the zone, volumes, subnets, spot prices and the size of
// the user data. It asks EC2 for everything; no list of types or images is built in.
func (p *Provider) Preflight(ctx context.Context, plan cloud.Plan) error {
	var pc preflight
	p.checkKeyPairs(ctx, plan, &pc)
	subnetZones := p.checkSubnets(ctx, plan, &pc)
	zones := make([]string, len(plan.Requests)) // the zone each request will launch in, if known
	for i, req := range plan.Requests {
		zones[i] = req.Zone
		if zones[i] == "" {
			zones[i] = subnetZones[req.SubnetID]
		}
	}
	volumeZone := p.checkVolumes(ctx, plan, firstNonEmpty(zones...), &pc)
	for i := range zones {
		if zones[i] == "" {
			zones[i] = volumeZone // the cluster will follow its volumes
		}
	}
	p.checkImagesAndTypes(ctx, plan, zones, &pc)
	p.checkSnapshots(ctx, plan, &pc)
	for _, req := range plan.Requests {
		if req.SpotPrice != "" {
			if v, err := strconv.ParseFloat(req.SpotPrice, 64); err != nil || v <= 0 {
				pc.addf("spot price %q for %s is not a positive number", req.SpotPrice, req.Role)
			}
		}
		if _, err := launchBatches(req.Aliases, withHostKeys(req.Aliases, req.Boot)); err != nil {
			pc.addf("%s: %v", req.Role, err)
		}
	}
	return pc.err()
}

// preflight collects problems, once each.
type preflight struct {
	problems []error
	seen     map[string]bool
}

func (pc *preflight) addf(format string, args ...any) {
	pc.add(fmt.Errorf(format, args...))
}

func (pc *preflight) add(err error) {
	if err == nil {
		return
	}
	if pc.seen == nil {
		pc.seen = map[string]bool{}
	}
	if pc.seen[err.Error()] {
		return
	}
	pc.seen[err.Error()] = true
	pc.problems = append(pc.problems, err)
}

func (pc *preflight) err() error { return errors.Join(pc.problems...) }

// checkKeyPairs checks that each key pair exists and that the plan's key file is its private
// key, by fingerprint.
func (p *Provider) checkKeyPairs(ctx context.Context, plan cloud.Plan, pc *preflight) {
	for _, name := range unique(plan.Requests, func(r cloud.LaunchRequest) string { return r.KeyName }) {
		out, err := p.api.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{name}})
		if isCode(err, codeKeyPairNotFound) || (err == nil && len(out.KeyPairs) == 0) {
			pc.addf("key pair %s not found in %s", name, p.region)
			continue
		}
		if err != nil {
			pc.addf("key pair %s: %w", name, err)
			continue
		}
		if plan.KeyFile == "" {
			continue
		}
		data, err := os.ReadFile(expandHome(plan.KeyFile))
		if err != nil {
			pc.addf("key pair %s: read key file: %w", name, err)
			continue
		}
		local, err := keyFingerprints(data)
		if err != nil {
			pc.addf("key pair %s: key file %s: %w", name, plan.KeyFile, err)
			continue
		}
		remote := aws.ToString(out.KeyPairs[0].KeyFingerprint)
		if ok, shown := matchFingerprint(remote, local); !ok {
			pc.addf("key pair %s: fingerprint of %s (%s) does not match EC2's (%s)", name, plan.KeyFile, shown, remote)
		}
	}
}

// expandHome expands a leading ~/ so paths copied from a config file work as written.
func expandHome(path string) string {
	if rest, ok := strings.CutPrefix(path, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return path
}

// unique returns the distinct non-empty values of key over the requests, in first-seen order.
func unique(reqs []cloud.LaunchRequest, key func(cloud.LaunchRequest) string) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range reqs {
		if v := key(r); v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

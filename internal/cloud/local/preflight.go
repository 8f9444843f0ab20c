package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// installHint is the one command that installs every tool the provider runs.
const installHint = "apt-get install systemd-container debootstrap iproute2"

// requiredTools are the host commands the provider runs, with the Debian package of each.
func requiredTools() [][2]string {
	return [][2]string{
		{"systemd-nspawn", "systemd-container"},
		{"debootstrap", "debootstrap"},
		{"ip", "iproute2"},
	}
}

// requireTools fails naming every listed command that is missing, with the install command.
func requireTools(names ...string) error {
	var errs []error
	for _, t := range requiredTools() {
		for _, n := range names {
			if n == t[0] {
				if _, err := exec.LookPath(n); err != nil {
					errs = append(errs, fmt.Errorf("%s is missing (package %s): install it with `%s`", n, t[1], installHint))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// Preflight checks a launch plan before anything is created and reports every problem at once:
// root, the host tools, image names, instance types, capacity of a cluster's subnet, and volumes (they must
// exist and not be in use by another cluster). A missing image is not a problem: the launch
// builds it.
func (p *Provider) Preflight(ctx context.Context, plan cloud.Plan) error {
	var errs []error
	if os.Geteuid() != 0 {
		errs = append(errs, errors.New("the local provider needs root: run with sudo"))
	}
	if err := requireTools("systemd-nspawn", "debootstrap", "ip"); err != nil {
		errs = append(errs, err)
	}
	if plan.Tag != "" {
		if err := checkTag(plan.Tag); err != nil {
			errs = append(errs, err)
		}
	}
	total, badImages, badTypes := 0, map[string]bool{}, map[string]bool{}
	for _, req := range plan.Requests {
		total += len(req.Aliases)
		if _, err := lookupImage(req.ImageID); err != nil && !badImages[req.ImageID] {
			badImages[req.ImageID] = true
			errs = append(errs, fmt.Errorf("%s: %w", req.Role, err))
		}
		if err := checkType(req.InstanceType); err != nil && !badTypes[req.InstanceType] {
			badTypes[req.InstanceType] = true
			errs = append(errs, fmt.Errorf("%s: %w", req.Role, err))
		}
		for _, a := range req.Aliases {
			if pemBytes := req.Boot.HostKeys[a]; len(pemBytes) > 0 {
				if _, err := parseHostKey(a, pemBytes); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	if total > maxInstancesPerCluster {
		errs = append(errs, fmt.Errorf("%d instances do not fit a cluster's /24 (at most %d)", total, maxInstancesPerCluster))
	}
	errs = append(errs, p.checkPlanVolumes(ctx, plan)...)
	errs = append(errs, p.checkPlanSnapshots(plan)...)
	return errors.Join(errs...)
}

// checkPlanVolumes reports volumes that do not exist or that another cluster uses.
func (p *Provider) checkPlanVolumes(ctx context.Context, plan cloud.Plan) []error {
	if len(plan.VolumeIDs) == 0 {
		return nil
	}
	vols, err := p.Volumes(ctx, cloud.VolumeFilter{IDs: plan.VolumeIDs})
	if err != nil {
		return []error{err}
	}
	inv, err := p.readInventory()
	if err != nil {
		return []error{err}
	}
	found := map[string]cloud.Volume{}
	for _, v := range vols {
		found[v.ID] = v
	}
	var errs, missing []error
	var missingIDs []string
	for _, id := range plan.VolumeIDs {
		v, ok := found[id]
		if !ok {
			missingIDs = append(missingIDs, id)
			continue
		}
		if v.AttachedTo != "" && inv.instances[v.AttachedTo].Cluster != plan.Tag {
			errs = append(errs, fmt.Errorf("volume %s is in use by %s (cluster %s)", id, v.AttachedTo, inv.instances[v.AttachedTo].Cluster))
		}
		for _, c := range inv.clusters {
			if c.Tag != plan.Tag && mountsVolume(c, id) && v.AttachedTo == "" {
				errs = append(errs, fmt.Errorf("volume %s is mounted by cluster %s", id, c.Tag))
			}
		}
	}
	if len(missingIDs) > 0 {
		missing = append(missing, fmt.Errorf("volumes not found: %s (create them with `clusterctl createvolume`): %w",
			strings.Join(missingIDs, ", "), cloud.ErrNotFound))
	}
	return append(missing, errs...)
}

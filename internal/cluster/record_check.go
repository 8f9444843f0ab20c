package cluster

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/config"
	"github.com/clusterctl/clusterctl/plugins"
)

// bootScriptNameRE is a recorded boot script's name: a base name of plain characters.
var bootScriptNameRE = regexp.MustCompile(`^[A-Za-z0-9._+@-]+$`)

// maxClusterSize bounds CLUSTER_SIZE in a record; a larger number is no template anyone wrote.
const maxClusterSize = 100000

// RecordError is a recorded template that fails the config's checks. The record is read back
// from tags (EC2) that anyone allowed ec2:CreateTags in the account could have rewritten, and
// its values reach root shells on every node, so a cluster whose record fails is refused
// until it is terminated.
type RecordError struct {
	Field string
	Err   error
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("the recorded template (tag %s) is refused: %s: %v", cloud.TagTemplate, e.Field, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// Check runs a decoded record through the same rules its config passed when the cluster was
// created: names, paths, ids, types and every plugin parameter by its declaration.
func (r Record) Check() error {
	var errs []error
	bad := func(field string, err error) {
		if err != nil {
			errs = append(errs, &RecordError{Field: field, Err: err})
		}
	}
	optional := func(field, v string, check config.Check) {
		if v != "" {
			bad(field, firstErr(config.CheckSingleLine(v), check(v)))
		}
	}
	bad("template", config.CheckSingleLine(r.Template))
	bad("keyname", config.CheckSingleLine(r.KeyName))
	if r.Provider != "" && r.Provider != "ec2" && r.Provider != "local" {
		bad("provider", fmt.Errorf("%q is not a provider", r.Provider))
	}
	if r.ClusterSize < 1 || r.ClusterSize > maxClusterSize {
		bad("cluster_size", fmt.Errorf("%d is out of range", r.ClusterSize))
	}
	if r.ClusterUser == "root" {
		bad("cluster_user", errors.New("cannot be root"))
	}
	bad("cluster_user", config.CheckUserName(r.ClusterUser))
	if !slices.Contains(config.Shells(), r.ClusterShell) {
		bad("cluster_shell", fmt.Errorf("%q is not one of %v", r.ClusterShell, config.Shells()))
	}
	optional("login_user", r.LoginUser, config.CheckUserName)
	bad("master_image", config.CheckImageID(r.MasterImage))
	bad("master_type", config.CheckInstanceType(r.MasterType))
	bad("node_image", config.CheckImageID(r.NodeImage))
	for i, s := range r.NodeTypes {
		field := fmt.Sprintf("node_types[%d]", i)
		bad(field, config.CheckInstanceType(s.Type))
		optional(field, s.Image, config.CheckImageID)
		if s.Count < 0 || s.Count > maxClusterSize {
			bad(field, fmt.Errorf("count %d is out of range", s.Count))
		}
	}
	optional("zone", r.Zone, config.CheckAWSName)
	for _, z := range r.Zones {
		bad("zones", firstErr(config.CheckSingleLine(z), config.CheckAWSName(z)))
	}
	for _, ty := range r.NodeTypeAlternatives {
		bad("node_type_alternatives", config.CheckInstanceType(ty))
	}
	optional("subnet_id", r.SubnetID, config.CheckAWSName)
	optional("iam_profile", r.IAMProfile, config.CheckAWSName)
	if r.SpotBid != nil && *r.SpotBid <= 0 {
		bad("spot_bid", fmt.Errorf("%g is not a price", *r.SpotBid))
	}
	if r.RootVolumeSize < 0 {
		bad("root_volume_size", fmt.Errorf("%d is negative", r.RootVolumeSize))
	}
	for _, c := range r.SSHCIDR {
		if _, err := netip.ParsePrefix(c); err != nil {
			bad("ssh_cidr", fmt.Errorf("%q is not a CIDR", c))
		}
	}
	for _, v := range r.Volumes {
		field := "volume " + v.Name
		bad(field, config.CheckSingleLine(v.Name))
		bad(field, config.CheckVolumeID(v.ID))
		if err := config.CheckMountPath(v.MountPath); err != nil {
			bad(field, fmt.Errorf("MOUNT_PATH %q %w", v.MountPath, err))
		} else if config.CleanMountPath(v.MountPath) != v.MountPath {
			bad(field, fmt.Errorf("MOUNT_PATH %q is not a clean path", v.MountPath))
		}
		optional(field, v.Device, config.CheckDevice)
		if v.Partition < 0 {
			bad(field, fmt.Errorf("partition %d is negative", v.Partition))
		}
	}
	catalog := plugins.NewCatalog()
	for _, p := range r.Plugins {
		bad("plugin "+p.Name, firstErr(config.CheckSingleLine(p.Name), checkRecordedPlugin(catalog, p)))
	}
	for _, rule := range r.Rules {
		bad("rules", checkRule(rule))
	}
	for _, s := range r.BootScripts {
		// The name becomes a file name on the node and a MIME header in EC2 user data.
		if s.Name == "" || len(s.Name) > 255 || !bootScriptNameRE.MatchString(s.Name) {
			bad("boot_scripts", fmt.Errorf("script name %q is not a plain file name", s.Name))
		}
	}
	return errors.Join(errs...)
}

// checkRecordedPlugin checks that a recorded plugin is a built-in one and that each of its
// parameters is declared and passes the declaration's checks.
func checkRecordedPlugin(catalog *plugins.Catalog, p RecordPlugin) error {
	spec, ok := catalog.Lookup(p.Builtin)
	if !ok || spec.Name != p.Builtin {
		return fmt.Errorf("%q is not a built-in plugin", p.Builtin)
	}
	schema := config.Schema{Kind: config.KindPlugin, Settings: spec.Params}
	for name, v := range p.Params {
		st, ok := schema.Lookup(name)
		if !ok || st.Name != name {
			return fmt.Errorf("plugin %s has no parameter %q", spec.Name, name)
		}
		if err := config.CheckRecordedValue(st, v); err != nil {
			return err
		}
	}
	return nil
}

// checkRule checks an ingress rule as the permission section's checks do.
func checkRule(r cloud.Rule) error {
	switch r.Protocol {
	case "tcp", "udp":
		if r.FromPort < 0 || r.ToPort > 65535 || r.FromPort > r.ToPort {
			return fmt.Errorf("port range %d-%d is invalid", r.FromPort, r.ToPort)
		}
	case "icmp", "-1":
	default:
		return fmt.Errorf("protocol %q is not tcp, udp or icmp", r.Protocol)
	}
	if _, err := netip.ParsePrefix(r.CIDR); err != nil {
		return fmt.Errorf("%q is not a CIDR", r.CIDR)
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

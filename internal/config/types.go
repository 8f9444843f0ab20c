package config

import (
	"sort"
	"strings"
)

// Config is a loaded, validated config: every template resolved (EXTENDS applied, defaults
// filled, references checked) and ready for the engine.
type Config struct {
	// Path is the main file; Files lists it and every file it included, in load order.
	Path  string
	Files []string

	Global      Global
	AWS         AWSInfo
	Keys        map[string]*Key
	Clusters    map[string]*Template
	Volumes     map[string]*Volume
	Plugins     map[string]*Plugin
	Permissions map[string]*Permission

	// Warnings are every warning of the whole config as `config validate` lists them (see
	// Check): ignored StarCluster keys, rules open to the world, and the problems of sections no
	// template uses.
	Warnings Problems

	raw      map[string]*rawSection // cluster sections by name, before EXTENDS
	sections map[string]bool        // "kind name" of every section, loaded or not
	catalog  PluginCatalog
	env      Env
	types    map[string]bool // known EC2 instance types
	// problems and warnings are what loading the sections found, each with its scope;
	// resolved holds each template's own.
	problems, warnings Problems
	resolved           map[string]resolution
}

// Global is the [global] section.
type Global struct {
	DefaultTemplate string   `ini:"default_template"`
	Include         []string `ini:"include"`
	RefreshInterval int      `ini:"refresh_interval"`
}

// AWSInfo is the [aws info] section after environment overrides.
type AWSInfo struct {
	AccessKeyID     string `ini:"aws_access_key_id"`
	SecretAccessKey string `ini:"aws_secret_access_key"`
	SessionToken    string `ini:"aws_session_token"`
	Profile         string `ini:"aws_profile"`
	RegionName      string `ini:"aws_region_name"`
	RegionHost      string `ini:"aws_region_host"`
	Port            int    `ini:"aws_port"`
	IsSecure        bool   `ini:"aws_is_secure"`
	EC2Path         string `ini:"aws_ec2_path"`
	// Sources says where each set value came from (file:line or environment variable).
	Sources map[string]Pos `ini:"-"`
}

// Key is a [key NAME] section.
type Key struct {
	Name     string         `ini:"-"`
	Location string         `ini:"key_location"`
	Sources  map[string]Pos `ini:"-"`
}

// Volume is a [volume NAME] section.
type Volume struct {
	Name      string `ini:"-"`
	VolumeID  string `ini:"volume_id"`
	MountPath string `ini:"mount_path"`
	Device    string `ini:"device"`
	Partition int    `ini:"partition"`
	// Share is "master" (attached to the master, shared over NFS) or "copy" (each node gets a
	// volume of its own from SnapshotID, read-only unless ReadOnly is false, deleted with its
	// node unless KeepCopies).
	Share      string `ini:"share"`
	SnapshotID string `ini:"snapshot_id"`
	ReadOnly   bool   `ini:"read_only"`
	KeepCopies bool   `ini:"keep_copies"`
	// FromDataSnapshots marks a volume made from the template's DATA_SNAPSHOTS list.
	FromDataSnapshots bool           `ini:"-"`
	Sources           map[string]Pos `ini:"-"`
}

// Copied reports whether every node gets its own copy of the volume (SHARE = copy).
func (v *Volume) Copied() bool { return v.Share == ShareCopy }

// Permission is a [permission NAME] section.
type Permission struct {
	Name     string         `ini:"-"`
	Protocol string         `ini:"ip_protocol"`
	FromPort int            `ini:"from_port"`
	ToPort   int            `ini:"to_port"`
	CIDR     string         `ini:"cidr_ip"`
	Sources  map[string]Pos `ini:"-"`
}

// Plugin is a [plugin NAME] section resolved to a built-in plugin.
type Plugin struct {
	Name       string `ini:"-"`
	SetupClass string `ini:"setup_class"`
	// Builtin is the built-in plugin SETUP_CLASS resolved to.
	Builtin string `ini:"-"`
	// Params are the plugin's parameters, typed by its declaration, defaults filled in.
	Params map[string]any `ini:"-"`
	Pos    Pos            `ini:"-"`
	// Set says where each parameter the section writes (not a default) is.
	Set map[string]Pos `ini:"-"`
}

// Template is a [cluster NAME] section after EXTENDS, defaults and overrides.
type Template struct {
	Name               string         `ini:"-"`
	Extends            string         `ini:"extends"`
	Provider           string         `ini:"provider"`
	KeyName            string         `ini:"keyname"`
	ClusterSize        int            `ini:"cluster_size"`
	ClusterUser        string         `ini:"cluster_user"`
	ClusterShell       string         `ini:"cluster_shell"`
	NodeImageID        string         `ini:"node_image_id"`
	NodeInstanceType   []InstanceSpec `ini:"node_instance_type"`
	MasterImageID      string         `ini:"master_image_id"`
	MasterInstanceType string         `ini:"master_instance_type"`
	AvailabilityZone   []string       `ini:"availability_zone"`
	SpotBid            *float64       `ini:"spot_bid"`
	ForceSpotMaster    bool           `ini:"force_spot_master"`
	SubnetID           string         `ini:"subnet_id"`
	PublicIPs          *bool          `ini:"public_ips"`
	VolumeNames        []string       `ini:"volumes"`
	DataSnapshots      []string       `ini:"data_snapshots"`
	PluginNames        []string       `ini:"plugins"`
	PermissionNames    []string       `ini:"permissions"`
	UserdataScripts    []string       `ini:"userdata_scripts"`
	DisableQueue       bool           `ini:"disable_queue"`
	DNSPrefix          bool           `ini:"dns_prefix"`
	SSHCIDR            []string       `ini:"ssh_cidr"`
	RootVolumeSize     int            `ini:"root_volume_size"`
	IAMProfile         string         `ini:"iam_profile"`
	LoginUser          string         `ini:"login_user"`
	// Scheduler is SCHEDULER, "none" when DISABLE_QUEUE is set.
	Scheduler string `ini:"scheduler"`
	// NodeTypeAlternatives are instance types tried in turn for workers when EC2 has no
	// capacity for theirs (AVAILABILITY_ZONE's items after the first are the zones tried).
	NodeTypeAlternatives []string `ini:"node_instance_type_alternatives"`

	// Resolved references, in the order the template lists them.
	Key         *Key          `ini:"-"`
	Volumes     []*Volume     `ini:"-"`
	Plugins     []*Plugin     `ini:"-"`
	Permissions []*Permission `ini:"-"`

	// Sources says where each setting's value came from: a file line, "default", or
	// "command line".
	Sources map[string]Pos `ini:"-"`
}

// InstanceSpec is one item of NODE_INSTANCE_TYPE: Count workers of Type on Image (empty: the
// template's NODE_IMAGE_ID). The last item has Count 0: it covers the remaining workers.
type InstanceSpec struct {
	Type  string `json:"type"`
	Image string `json:"image,omitempty"`
	Count int    `json:"count,omitempty"`
}

// DefaultNodeType is the plain last item of NODE_INSTANCE_TYPE, used for every worker not
// covered by a counted item.
func (t *Template) DefaultNodeType() string {
	if len(t.NodeInstanceType) == 0 {
		return ""
	}
	return t.NodeInstanceType[len(t.NodeInstanceType)-1].Type
}

// MasterType is the master's instance type: MASTER_INSTANCE_TYPE or the default node type.
func (t *Template) MasterType() string {
	if t.MasterInstanceType != "" {
		return t.MasterInstanceType
	}
	return t.DefaultNodeType()
}

// MasterImage is the master's image: MASTER_IMAGE_ID or NODE_IMAGE_ID.
func (t *Template) MasterImage() string {
	if t.MasterImageID != "" {
		return t.MasterImageID
	}
	return t.NodeImageID
}

// declared reports whether the config has a section of this kind and name, even one that failed
// to load (its own problems are reported already; a reference to it is not a second problem).
func (c *Config) declared(k Kind, name string) bool {
	return c.sections[string(k)+" "+name]
}

// names lists the declared sections of one kind, sorted.
func (c *Config) names(k Kind) []string {
	var out []string
	for key := range c.sections {
		if rest, ok := strings.CutPrefix(key, string(k)+" "); ok {
			out = append(out, rest)
		}
	}
	sort.Strings(out)
	return out
}

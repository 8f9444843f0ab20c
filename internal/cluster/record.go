package cluster

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/config"
	"github.com/clusterctl/clusterctl/internal/scheduler"
	"github.com/clusterctl/clusterctl/internal/scheduler/registry"
)

// recordVersion is bumped when Record changes incompatibly.
const recordVersion = 1

// Record is the resolved template stored with a cluster when it is created (as tags on its
// security group), so any later command on any machine acts on the cluster as it was launched,
// without the config file. Secret plugin parameters are left out: tags are readable by anyone
// who can describe the account's resources.
type Record struct {
	Version  int    `json:"v"`
	Template string `json:"template"`
	// Description is what start -d recorded (untrusted when read back: shown only).
	Description     string                `json:"description,omitempty"`
	Provider        string                `json:"provider"`
	CreatedAt       time.Time             `json:"created_at"`
	ClusterSize     int                   `json:"cluster_size"`
	ClusterUser     string                `json:"cluster_user"`
	ClusterShell    string                `json:"cluster_shell"`
	LoginUser       string                `json:"login_user,omitempty"`
	KeyName         string                `json:"keyname"`
	MasterImage     string                `json:"master_image"`
	MasterType      string                `json:"master_type"`
	NodeImage       string                `json:"node_image"`
	NodeTypes       []config.InstanceSpec `json:"node_types"`
	Zone            string                `json:"zone,omitempty"`
	SubnetID        string                `json:"subnet_id,omitempty"`
	PublicIPs       *bool                 `json:"public_ips,omitempty"`
	SpotBid         *float64              `json:"spot_bid,omitempty"`
	ForceSpotMaster bool                  `json:"force_spot_master,omitempty"`
	DNSPrefix       bool                  `json:"dns_prefix,omitempty"`
	DisableQueue    bool                  `json:"disable_queue,omitempty"`
	Scheduler       string                `json:"scheduler,omitempty"`
	RootVolumeSize  int                   `json:"root_volume_size,omitempty"`
	IAMProfile      string                `json:"iam_profile,omitempty"`
	SSHCIDR         []string              `json:"ssh_cidr,omitempty"`
	Volumes         []RecordVolume        `json:"volumes,omitempty"`
	Plugins         []RecordPlugin        `json:"plugins,omitempty"`
	Rules           []cloud.Rule          `json:"rules,omitempty"`
	// BootScripts are the USERDATA_SCRIPTS, content included, so every instance launched
	// later (addnode, loadbalance, start -x) runs them too, from any machine.
	BootScripts []RecordScript `json:"boot_scripts,omitempty"`
	// Copies are volumes every node gets a copy of its own, from a snapshot (SHARE = copy).
	Copies []RecordVolume `json:"copies,omitempty"`
	// Zones are the alternatives to Zone, and NodeTypeAlternatives those to the workers'
	// instance type, tried in turn when EC2 has no capacity.
	Zones                []string `json:"zones,omitempty"`
	NodeTypeAlternatives []string `json:"node_type_alternatives,omitempty"`
}

// RecordScript is a boot script as recorded: text, so the record compresses well.
type RecordScript struct {
	Name    string `json:"name"`
	Content string `json:"content"`
}

// RecordVolume is a volume the master attaches and shares, or (in Copies) one every node gets a
// copy of from SnapshotID.
type RecordVolume struct {
	Name      string `json:"name"`
	ID        string `json:"id,omitempty"`
	MountPath string `json:"mount_path"`
	Device    string `json:"device,omitempty"`
	Partition int    `json:"partition,omitempty"`
	// SnapshotID, Writable and Keep describe a copy (SHARE = copy, READ_ONLY = false,
	// KEEP_COPIES); List marks one of the template's DATA_SNAPSHOTS.
	SnapshotID string `json:"snapshot_id,omitempty"`
	Writable   bool   `json:"writable,omitempty"`
	Keep       bool   `json:"keep,omitempty"`
	List       bool   `json:"list,omitempty"`
}

// RecordPlugin is a plugin the cluster runs, with its non-secret parameters.
type RecordPlugin struct {
	Name    string         `json:"name"`
	Builtin string         `json:"builtin"`
	Params  map[string]any `json:"params,omitempty"`
}

// NewRecord captures a resolved template. secret reports which plugin parameters are secrets
// (from the plugin catalog) so they are not stored.
func NewRecord(t *config.Template, provider string, sshCIDR []string, now time.Time, secret func(builtin, param string) bool) Record {
	r := Record{
		Version: recordVersion, Template: t.Name, Provider: provider, CreatedAt: now.UTC(),
		ClusterSize: t.ClusterSize, ClusterUser: t.ClusterUser, ClusterShell: t.ClusterShell, LoginUser: t.LoginUser,
		KeyName: t.KeyName, MasterImage: t.MasterImage(), MasterType: t.MasterType(), NodeImage: t.NodeImageID,
		NodeTypes: t.NodeInstanceType, SubnetID: t.SubnetID, PublicIPs: t.PublicIPs, NodeTypeAlternatives: t.NodeTypeAlternatives,
		SpotBid: t.SpotBid, ForceSpotMaster: t.ForceSpotMaster, DNSPrefix: t.DNSPrefix, DisableQueue: t.DisableQueue,
		RootVolumeSize: t.RootVolumeSize, IAMProfile: t.IAMProfile, SSHCIDR: sshCIDR, Scheduler: t.Scheduler,
	}
	if len(t.AvailabilityZone) > 0 {
		r.Zone, r.Zones = t.AvailabilityZone[0], t.AvailabilityZone[1:]
	}
	for _, v := range t.Volumes {
		rv := RecordVolume{Name: v.Name, ID: v.VolumeID, MountPath: v.MountPath, Device: v.Device, Partition: v.Partition}
		if v.Copied() {
			rv.SnapshotID, rv.Writable, rv.Keep, rv.List = v.SnapshotID, !v.ReadOnly, v.KeepCopies, v.FromDataSnapshots
			r.Copies = append(r.Copies, rv)
			r.Version = copiesRecordVersion
			continue
		}
		r.Volumes = append(r.Volumes, rv)
	}
	for _, p := range t.Plugins {
		rp := RecordPlugin{Name: p.Name, Builtin: p.Builtin, Params: map[string]any{}}
		for k, v := range p.Params {
			if secret == nil || !secret(p.Builtin, k) {
				rp.Params[k] = v
			}
		}
		r.Plugins = append(r.Plugins, rp)
	}
	r.Rules = append(r.Rules, sshRules(sshCIDR)...)
	for _, p := range t.Permissions {
		cidrs := []string{p.CIDR}
		if p.CIDR == "" {
			cidrs = sshCIDR // like port 22: the caller's address unless SSH_CIDR says otherwise
		}
		for _, c := range cidrs {
			r.Rules = append(r.Rules, cloud.Rule{Protocol: p.Protocol, FromPort: p.FromPort, ToPort: p.ToPort, CIDR: c})
		}
	}
	return r
}

func sshRules(cidrs []string) []cloud.Rule {
	out := make([]cloud.Rule, 0, len(cidrs))
	for _, c := range cidrs {
		out = append(out, cloud.Rule{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDR: c})
	}
	return out
}

// SchedulerName is the cluster's scheduler: SCHEDULER as recorded, else what a record made
// before SCHEDULER existed means (none with DISABLE_QUEUE, else Grid Engine).
func (r Record) SchedulerName() string {
	switch {
	case r.Scheduler != "":
		return r.Scheduler
	case r.DisableQueue:
		return registry.None
	}
	return registry.Default
}

// NewScheduler builds the cluster's scheduler, shaped by its plugin entry when the template
// lists one; nil for a cluster without a scheduler.
func (r Record) NewScheduler() (scheduler.Scheduler, error) {
	name := r.SchedulerName()
	var params registry.Params
	for _, rp := range r.Plugins {
		if rp.Builtin == name {
			params = registry.Params(rp.Params)
		}
	}
	return registry.New(name, params)
}

// bootConfig is what an instance launched for this cluster gets at first boot: the login user,
// the user's public keys and the recorded boot scripts.
func (r Record) bootConfig(authorizedKeys []string) cloud.BootConfig {
	b := cloud.BootConfig{LoginUser: r.LoginUser, AuthorizedKeys: authorizedKeys}
	for _, s := range r.BootScripts {
		b.Scripts = append(b.Scripts, cloud.BootScript{Name: s.Name, Content: []byte(s.Content)})
	}
	return b
}

// checkRecordSize refuses a record too large to be stored with the cluster (EC2 tags), before
// anything is created. Boot scripts are what makes a record large.
func checkRecordSize(r Record) error {
	n := len(cloud.EncodeRecord(r.Encode()))
	if n <= cloud.MaxRecordTags {
		return nil
	}
	size := 0
	for _, s := range r.BootScripts {
		size += len(s.Content)
	}
	return fmt.Errorf("the template does not fit in the %d tags clusterctl records a cluster in (it needs %d): "+
		"USERDATA_SCRIPTS (%d bytes) are recorded with the cluster so that nodes added later run them too; "+
		"shorten them, or have a short script fetch the rest", cloud.MaxRecordTags, n, size)
}

// Encode is the record's compact JSON.
func (r Record) Encode() []byte {
	b, _ := json.Marshal(r) // a Record always marshals
	return b
}

// DecodeRecord reads a record stored with a cluster and checks it (Record.Check): what comes
// back from the cloud is not trusted until it passes the config's own rules.
func DecodeRecord(data []byte) (Record, error) {
	var r Record
	if len(data) == 0 {
		return r, fmt.Errorf("the cluster carries no recorded template (not created by clusterctl?)")
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("read recorded template: %w", err)
	}
	if r.Version > copiesRecordVersion {
		return r, fmt.Errorf("the cluster was created by a newer clusterctl (record version %d); upgrade clusterctl", r.Version)
	}
	if err := r.Check(); err != nil {
		return Record{}, err
	}
	return r, nil
}

// MasterAliasFor is the master's alias under this record's DNS prefix setting.
func (r Record) MasterAliasFor(tag string) string { return Prefixed(tag, MasterAlias, r.DNSPrefix) }

// Package cloud defines what the cluster engine needs from a place that runs machines: the
// Provider interface and the value types it trades in. EC2 and the local systemd-nspawn provider
// both implement it, so the engine, setup and balancer never know which one they talk to.
package cloud

import "time"

// Role says what a machine does in its cluster; the engine never removes a RoleMaster instance
// when it shrinks a cluster.
type Role string

// The roles a cluster instance can have.
const (
	RoleMaster Role = "master"
	RoleNode   Role = "node"
)

// Lifecycle distinguishes on-demand from spot capacity, because spot instances cannot be stopped
// and may vanish at any time.
type Lifecycle string

// The lifecycles an instance can have.
const (
	OnDemand Lifecycle = "on-demand"
	Spot     Lifecycle = "spot"
)

// The instance states the engine acts on. Providers map their own states onto these so the engine
// can wait for "running" or "stopped" the same way everywhere.
const (
	StatePending      = "pending"
	StateRunning      = "running"
	StateStopping     = "stopping"
	StateStopped      = "stopped"
	StateShuttingDown = "shutting-down"
	StateTerminated   = "terminated"
	// StateDead is a local instance whose container process died without being stopped; it is
	// reported, never waited on.
	StateDead = "dead"
)

// Instance is one machine of a cluster as the provider sees it right now.
type Instance struct {
	ID            string    `json:"id"`
	Cluster       string    `json:"cluster"`
	Alias         string    `json:"alias"`
	Role          Role      `json:"role"`
	State         string    `json:"state"`
	PrivateIP     string    `json:"private_ip,omitempty"`
	PublicIP      string    `json:"public_ip,omitempty"`
	PublicDNS     string    `json:"public_dns,omitempty"`
	SpotRequestID string    `json:"spot_request_id,omitempty"`
	Lifecycle     Lifecycle `json:"lifecycle"`
	LaunchTime    time.Time `json:"launch_time"`
	InstanceType  string    `json:"instance_type"`
	ImageID       string    `json:"image_id"`
	Zone          string    `json:"zone,omitempty"`
	KeyName       string    `json:"key_name,omitempty"`
	SubnetID      string    `json:"subnet_id,omitempty"`
	VPCID         string    `json:"vpc_id,omitempty"`
	// Groups are the ids of the security groups (EC2) or the bridge (local) the instance is
	// in, fixed at launch: a tag alone does not make an instance a cluster's member.
	Groups []string `json:"groups,omitempty"`
	// HostKey is the public half of the host key clusterctl generated for the instance
	// (authorized_keys format), kept with the instance so any machine can pin it.
	HostKey string            `json:"host_key,omitempty"`
	Tags    map[string]string `json:"tags,omitempty"`
	// SpotPrice is the maximum hourly price a spot instance was launched with ("" on demand),
	// so a replacement bids the same.
	SpotPrice string `json:"spot_price,omitempty"`
	// StateReason is the provider's word on why the instance is in its state (EC2's state
	// reason: "Server.SpotInstanceTermination: ..."), shown when a node vanished.
	StateReason string `json:"state_reason,omitempty"`
}

// Addr is the address clusterctl uses to reach the instance from outside: the public address
// when there is one, else the private one (reached through the master as a jump host).
func (i Instance) Addr() string {
	if i.PublicIP != "" {
		return i.PublicIP
	}
	return i.PrivateIP
}

// Alive reports whether the instance counts as part of the running or stoppable cluster.
func (i Instance) Alive() bool {
	switch i.State {
	case StateTerminated, StateShuttingDown, StateDead:
		return false
	}
	return true
}

// Cluster is a cluster's network boundary and identity: the security group (EC2) or bridge
// (local) that owns it, plus the template recorded when it was created.
type Cluster struct {
	Tag       string    `json:"tag"`
	GroupID   string    `json:"group_id"`
	GroupName string    `json:"group_name"`
	VPCID     string    `json:"vpc_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// Recorded is the resolved template stored at creation (compact JSON), so any later
	// invocation on any machine knows the cluster's settings without the config file.
	Recorded []byte `json:"-"`
	// Sealed means Recorded cannot have changed since creation: it matched the seal EC2 keeps
	// in the group's unchangeable description, or it is kept where only root writes (local).
	Sealed bool `json:"-"`
}

// Rule is one ingress rule of a cluster's group. Protocol is tcp, udp, icmp or "-1" (all);
// for icmp and all, ports are -1.
type Rule struct {
	Protocol string `json:"protocol"`
	FromPort int    `json:"from_port"`
	ToPort   int    `json:"to_port"`
	CIDR     string `json:"cidr"`
}

// GroupSpec describes the boundary to create for a new cluster.
type GroupSpec struct {
	Tag string
	// VPCID is the VPC of the subnet the cluster launches into; empty means the default VPC.
	VPCID string
	// Rules are the ingress rules besides "all traffic from the group itself", which every
	// cluster gets.
	Rules    []Rule
	Recorded []byte
	// Mounts are the paths every node shares. A provider with a shared filesystem
	// (Capabilities.SharedFilesystem) provides them itself; others ignore them and setup
	// shares them over NFS from the master.
	Mounts []Mount
}

// Mount is a path shared by every node of a cluster: the cluster's own /home (VolumeID empty)
// or a volume's mount path.
type Mount struct {
	Path     string `json:"path"`
	VolumeID string `json:"volume_id,omitempty"`
}

// Volume is a block volume (EBS) or its local equivalent.
type Volume struct {
	ID         string            `json:"id"`
	Name       string            `json:"name,omitempty"`
	SizeGB     int               `json:"size_gb"`
	Zone       string            `json:"zone"`
	State      string            `json:"state"`
	AttachedTo string            `json:"attached_to,omitempty"`
	Device     string            `json:"device,omitempty"`
	Encrypted  bool              `json:"encrypted"`
	CreateTime time.Time         `json:"create_time"`
	SnapshotID string            `json:"snapshot_id,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
}

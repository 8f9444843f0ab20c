package cloud

import (
	"context"
	"errors"
	"time"
)

// Provider is everything the engine asks of a place that runs machines. Implementations keep no
// state of their own between calls: a cluster is found again from its tags (EC2) or its state
// directory (local), so any later invocation can list, reach, grow or terminate it.
type Provider interface {
	// Name identifies the provider in messages ("ec2", "local").
	Name() string
	// Capabilities tells the engine which generic steps the provider makes unnecessary.
	Capabilities() Capabilities

	// Preflight checks a launch plan against the provider before anything is created and
	// returns every problem at once (errors.Join), or nil.
	Preflight(ctx context.Context, plan Plan) error

	// CreateCluster creates the cluster's boundary (security group / bridge) with its rules and
	// the recorded template. It fails with ErrExists when the tag is taken.
	CreateCluster(ctx context.Context, spec GroupSpec) (Cluster, error)
	// GetCluster returns the cluster with this tag or an error wrapping ErrNotFound.
	GetCluster(ctx context.Context, tag string) (Cluster, error)
	// ListClusters returns every cluster this provider holds, sorted by tag.
	ListClusters(ctx context.Context) ([]Cluster, error)
	// DeleteCluster removes the boundary once no instance uses it; deleting a cluster that is
	// already gone is not an error.
	DeleteCluster(ctx context.Context, tag string) error

	// Launch starts len(req.Aliases) instances of one (instance type, image) group in a single
	// request and returns them with their aliases assigned.
	Launch(ctx context.Context, req LaunchRequest) ([]Instance, error)
	// Instances lists the cluster's instances that are not terminated, sorted by alias.
	Instances(ctx context.Context, tag string) ([]Instance, error)
	// Wait polls until every listed instance is in state (running or stopped), tolerating the
	// provider's eventual consistency, and returns them. It gives up at ctx's deadline.
	Wait(ctx context.Context, tag string, ids []string, state string) ([]Instance, error)
	// Start, Stop, Reboot and Terminate act on instances by id. Terminate also cancels the
	// spot requests behind them and waits until they are gone.
	Start(ctx context.Context, ids []string) error
	Stop(ctx context.Context, ids []string) error
	Reboot(ctx context.Context, ids []string) error
	Terminate(ctx context.Context, ids []string) error

	// Volumes lists volumes matching the filter.
	Volumes(ctx context.Context, f VolumeFilter) ([]Volume, error)
	// CreateVolume creates an (encrypted) volume tagged with spec.Tags.
	CreateVolume(ctx context.Context, spec VolumeSpec) (Volume, error)
	// AttachVolume attaches a volume to an instance at device and waits until it is attached.
	AttachVolume(ctx context.Context, volumeID, instanceID, device string) error
	// DetachVolume detaches a volume and waits until it is available.
	DetachVolume(ctx context.Context, volumeID string) error
	// DeleteVolume deletes an available volume.
	DeleteVolume(ctx context.Context, volumeID string) error
	// ResizeVolume grows a volume to sizeGB (volumes never shrink) and waits until the new
	// size is usable; growing the filesystem on it is the engine's work.
	ResizeVolume(ctx context.Context, volumeID string, sizeGB int) error
}

// Capabilities are the differences between providers that change what setup does.
type Capabilities struct {
	// SharedFilesystem means /home and volume mount paths are already shared by the provider
	// (bind mounts on the local provider), so setup skips NFS.
	SharedFilesystem bool
	// DefaultLoginUser is the user the provider's images accept SSH logins for.
	DefaultLoginUser string
	// HostOnlyNetwork means instances are reachable only from this machine (local bridges):
	// there is no SSH ingress to restrict, so SSH_CIDR is not needed.
	HostOnlyNetwork bool
	// AttachDir, when set, is where a volume attached to a running instance shows up in it: as
	// the directory AttachDir/VOLUME-ID holding its files (the local provider has no block
	// devices). Empty means it shows up as a block device.
	AttachDir string
	// InstanceMetadata is the address of the metadata service instances ask about themselves
	// (EC2's http://169.254.169.254), where a spot node learns of its interruption; empty when
	// there is none.
	InstanceMetadata string
}

// Plan is a whole launch, checked by Preflight before anything exists.
type Plan struct {
	Tag      string
	Requests []LaunchRequest
	// VolumeIDs are the volumes the master will attach; they must exist, be available (or
	// already attached to this cluster's master) and share one zone.
	VolumeIDs []string
	// KeyFile is the local private key matching the key pair, checked for a fingerprint match.
	KeyFile string
}

// LaunchRequest is one group of identical instances, launched in one API call.
type LaunchRequest struct {
	Tag          string
	GroupID      string
	Role         Role
	Aliases      []string
	InstanceType string
	ImageID      string
	KeyName      string
	Zone         string
	SubnetID     string
	// PublicIP asks for (true) or against (false) public addresses; nil leaves the subnet's
	// default.
	PublicIP *bool
	// SpotPrice is the maximum hourly price for spot capacity; empty launches on demand.
	SpotPrice    string
	RootVolumeGB int
	IAMProfile   string
	Boot         BootConfig
	// Volumes are created for each instance from snapshots (SHARE = copy), attached before it
	// boots and, unless kept, deleted with it.
	Volumes []LaunchVolume
}

// BootConfig is what each instance must hold before clusterctl first connects, the equivalent of
// cloud-init user data: the login user and key, and the host key clusterctl generated for it so
// the very first connection is verified.
type BootConfig struct {
	LoginUser      string
	AuthorizedKeys []string
	// HostKeys maps alias to an OpenSSH-format (PEM) private host key for that instance.
	HostKeys map[string][]byte
	// Scripts run once at first boot, in order.
	Scripts []BootScript
}

// BootScript is a user data script (USERDATA_SCRIPTS).
type BootScript struct {
	Name    string
	Content []byte
}

// VolumeFilter narrows a volume listing; empty fields match everything.
type VolumeFilter struct {
	IDs     []string
	Name    string
	State   string
	Zone    string
	Cluster string
	Tags    map[string]string
}

// VolumeSpec describes a new volume.
type VolumeSpec struct {
	SizeGB int
	Zone   string
	Name   string
	Tags   map[string]string
}

// Typed errors every provider returns (wrapped), so the engine and the CLI decide without
// parsing provider messages.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
)

// DefaultWaitTimeout bounds how long a provider waits for instances to reach a state when the
// caller's context has no deadline of its own.
const DefaultWaitTimeout = 15 * time.Minute

// Diagnoser is implemented by providers that can say why an instance does not answer: the end of
// its console, or how far its boot got. The engine adds it to a failed wait for SSH, so a node
// that refuses logins is explained instead of reported as a closed handshake.
type Diagnoser interface {
	// Diagnose describes the instance's state in a line or a few; "" when there is nothing to say.
	Diagnose(ctx context.Context, tag, instanceID string) string
}

// LoginGuesser is implemented by providers whose images differ in the user they accept SSH
// logins for (EC2: admin on Debian, ubuntu on Ubuntu, ec2-user on Amazon Linux). The engine asks
// it when a template sets no LOGIN_USER, and records the answer with the cluster.
type LoginGuesser interface {
	// GuessLoginUser names the login user of an image, from what the image says of itself.
	GuessLoginUser(ctx context.Context, imageID string) (string, error)
}

// InstanceType is what an instance type offers the jobs that run on it.
type InstanceType struct {
	Name   string
	CPUs   int
	Memory int64 // bytes
}

// TypeDescriber is implemented by providers that know the size of their instance types (EC2
// from DescribeInstanceTypes, local from its own table, which its containers' cgroup limits
// enforce). Schedulers take each node's slots and memory from it, never from what a node's
// /proc reports (a container sees the whole machine).
type TypeDescriber interface {
	// InstanceTypes describes the named types; a name the provider does not know is an error.
	InstanceTypes(ctx context.Context, names []string) (map[string]InstanceType, error)
}

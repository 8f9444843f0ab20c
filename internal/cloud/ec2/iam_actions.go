package ec2

// Purpose names a group of clusterctl commands whose EC2 actions an IAM policy can be limited
// to (`clusterctl iam-policy --for PURPOSE`).
type Purpose string

// The purposes. PurposeAll is every action of the table: every command, including the ones no
// narrower purpose names (createkey, createvolume, ebsimage, spothistory, listregions, ...).
const (
	// PurposeStart is a cluster's life: start, stop, terminate, addnode, removenode, restart,
	// listclusters and the commands that reach nodes (sshmaster, put, get, runplugin).
	PurposeStart Purpose = "start"
	// PurposeLoadbalance is what the balancer does: read the cluster, add and remove nodes.
	PurposeLoadbalance Purpose = "loadbalance"
	// PurposeSyncdata is syncdata (with --rollout), listsnapshots and prunesnapshots.
	PurposeSyncdata Purpose = "syncdata"
	PurposeAll      Purpose = "all"
)

// Purposes lists the purposes in the order help texts show them.
func Purposes() []Purpose {
	return []Purpose{PurposeStart, PurposeLoadbalance, PurposeSyncdata, PurposeAll}
}

// Action is one EC2 API operation the provider calls: its name is both the operation (what the
// SDK and CallCounter report) and the IAM action ec2:Name. The resource types say how a policy
// can confine it to one cluster: resources it creates carry the cluster tag in the request
// (aws:RequestTag), resources it changes carry it already (aws:ResourceTag), others are not the
// cluster's (images, subnets, key pairs, a user's own volumes). An action with none of them acts
// on no particular resource (Describe*), or EC2 cannot confine it: it gets Resource "*".
type Action struct {
	Name string
	For  []Purpose
	// Creates are resource types the action creates tagged with the cluster.
	Creates []string
	// Changes are resource types of the cluster the action acts on.
	Changes []string
	// Others are other resource types the action touches.
	Others []string
	// TagOnCreate marks CreateTags: EC2 authorizes tags given at creation as CreateTags with
	// ec2:CreateAction set to the creating action.
	TagOnCreate bool
}

// Actions is the table of every EC2 action clusterctl calls, one entry per method of the
// provider's ec2API interface (a test keeps the two equal). IAM policies are generated from it,
// so a new API call cannot ship without its permission.
func Actions() []Action {
	lifecycle := []Purpose{PurposeStart, PurposeLoadbalance, PurposeSyncdata}
	launching := lifecycle // syncdata --rollout replaces nodes as the balancer does
	startOnly := []Purpose{PurposeStart}
	syncing := []Purpose{PurposeSyncdata}
	volumeWork := []Purpose{PurposeStart, PurposeSyncdata}
	var noPurpose []Purpose // used by commands only PurposeAll covers
	return []Action{
		// Cluster boundary.
		{Name: "CreateSecurityGroup", For: startOnly, Creates: []string{"security-group"}, Others: []string{"vpc"}},
		{Name: "AuthorizeSecurityGroupIngress", For: startOnly, Changes: []string{"security-group"}},
		{Name: "DescribeSecurityGroups", For: lifecycle},
		{Name: "DeleteSecurityGroup", For: []Purpose{PurposeStart, PurposeLoadbalance}, Changes: []string{"security-group"}},
		{Name: "DescribeVpcs", For: startOnly},
		{Name: "DescribeSubnets", For: startOnly},

		// Instances.
		{Name: "RunInstances", For: launching, Creates: []string{"instance", "volume", "spot-instances-request"},
			Changes: []string{"security-group"}, Others: []string{"image", "snapshot", "subnet", "network-interface", "key-pair"}},
		{Name: "CreateTags", For: lifecycle, Changes: []string{"instance", "volume", "security-group", "snapshot", "spot-instances-request"}, TagOnCreate: true},
		{Name: "DescribeInstances", For: lifecycle},
		{Name: "DescribeTags", For: lifecycle},
		{Name: "DeleteTags", For: lifecycle, Changes: []string{"security-group"}},
		{Name: "StartInstances", For: startOnly, Changes: []string{"instance"}},
		{Name: "StopInstances", For: startOnly, Changes: []string{"instance"}},
		{Name: "RebootInstances", For: startOnly, Changes: []string{"instance"}},
		{Name: "TerminateInstances", For: launching, Changes: []string{"instance"}},
		{Name: "GetConsoleOutput", For: launching, Changes: []string{"instance"}},

		// Spot capacity.
		{Name: "DescribeSpotInstanceRequests", For: launching},
		{Name: "CancelSpotInstanceRequests", For: launching, Changes: []string{"spot-instances-request"}},
		{Name: "DescribeSpotPriceHistory", For: noPurpose},

		// Volumes.
		{Name: "DescribeVolumes", For: lifecycle},
		{Name: "CreateVolume", For: syncing, Creates: []string{"volume"}},
		{Name: "AttachVolume", For: volumeWork, Changes: []string{"instance"}, Others: []string{"volume"}},
		{Name: "DetachVolume", For: lifecycle, Changes: []string{"instance"}, Others: []string{"volume"}},
		{Name: "DeleteVolume", For: syncing, Changes: []string{"volume"}},
		{Name: "ModifyVolume", For: noPurpose, Others: []string{"volume"}},
		{Name: "DescribeVolumesModifications", For: noPurpose},

		// Snapshots.
		{Name: "CreateSnapshot", For: syncing, Creates: []string{"snapshot"}, Changes: []string{"volume"}},
		{Name: "DescribeSnapshots", For: lifecycle},
		{Name: "DeleteSnapshot", For: syncing, Changes: []string{"snapshot"}},

		// Key pairs.
		{Name: "DescribeKeyPairs", For: startOnly},
		{Name: "CreateKeyPair", For: noPurpose, Others: []string{"key-pair"}},
		{Name: "ImportKeyPair", For: noPurpose, Others: []string{"key-pair"}},
		{Name: "DeleteKeyPair", For: noPurpose, Others: []string{"key-pair"}},

		// Catalog.
		{Name: "DescribeImages", For: launching},
		{Name: "CreateImage", For: noPurpose, Changes: []string{"instance"}, Others: []string{"image", "snapshot"}},
		{Name: "DeregisterImage", For: noPurpose, Others: []string{"image"}},
		// Every command that sets nodes up sizes them from their type (addnode, the balancer,
		// syncdata --rollout, and terminate for the plugins' shutdown hooks).
		{Name: "DescribeInstanceTypes", For: lifecycle},
		{Name: "DescribeInstanceTypeOfferings", For: startOnly},
		{Name: "DescribeRegions", For: noPurpose},
		{Name: "DescribeAvailabilityZones", For: noPurpose},
	}
}

// ActionsFor returns the table's actions a purpose needs, in table order.
func ActionsFor(p Purpose) []Action {
	var out []Action
	for _, a := range Actions() {
		if p == PurposeAll || hasPurpose(a.For, p) {
			out = append(out, a)
		}
	}
	return out
}

func hasPurpose(ps []Purpose, p Purpose) bool {
	for _, x := range ps {
		if x == p {
			return true
		}
	}
	return false
}

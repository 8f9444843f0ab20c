package cloud

// Tag keys clusterctl writes on every resource it creates. They are the only record of a cluster
// (DESIGN: state lives in the cloud), so they never change meaning.
const (
	// TagCluster marks every resource of a cluster with its tag.
	TagCluster = "clusterctl:cluster"
	// TagAlias is an instance's alias (master, node001, ...).
	TagAlias = "clusterctl:alias"
	// TagRole is an instance's role (master or node).
	TagRole = "clusterctl:role"
	// TagName is the console-visible name, TAG-alias.
	TagName = "Name"
	// TagVersion records the clusterctl version that created a cluster.
	TagVersion = "clusterctl:version"
	// TagTemplate is the prefix of the chunked, compressed recorded template
	// (clusterctl:template, clusterctl:template-1, ...).
	TagTemplate = "clusterctl:template"
	// TagFormat on a volume asks setup to create a filesystem on first mount when the device
	// has none (set by createvolume).
	TagFormat = "clusterctl:format"
	// GroupPrefix is the security group name prefix, StarCluster's, so users recognize it.
	GroupPrefix = "@sc-"
)

package config

func globalSchema() Schema {
	return Schema{Kind: KindGlobal,
		Doc: "Settings for clusterctl itself.",
		Settings: []Setting{
			{Name: "default_template", Type: String, Example: "smallcluster",
				Doc: "Template `start` uses when no -c is given; must name a [cluster] section."},
			{Name: "include", Type: PathList,
				Doc: "More config files to read, relative to this file's directory; included files may include others. An AWS credentials file (~/.aws/credentials) may be included: its profile fills [aws info]."},
			{Name: "refresh_interval", Type: Int,
				Doc: "Seconds between polls while waiting for EC2 instances (default 5; StarCluster polled every 30). `start -r` sets it for one run."},
			{Name: "enable_experimental", Type: Bool,
				Ignored: "loadbalance is no longer experimental and needs no gate"},
			{Name: "web_browser", Type: String,
				Ignored: "spothistory --plot writes an image file instead of opening a browser"},
		}}
}

func awsSchema() Schema {
	return Schema{Kind: KindAWS,
		Doc: "AWS credentials and endpoint. Every key is optional: without keys clusterctl uses the AWS SDK's default chain (environment, ~/.aws files, AWS_PROFILE, SSO, instance role). Each key can also be set from the environment under its own name (e.g. AWS_ACCESS_KEY_ID), which wins over the file.",
		Settings: []Setting{
			{Name: "aws_access_key_id", Type: String, Secret: true,
				Doc: "Access key id; when set, AWS_SECRET_ACCESS_KEY must be set too."},
			{Name: "aws_secret_access_key", Type: String, Secret: true,
				Doc: "Secret access key. Never printed or logged."},
			{Name: "aws_session_token", Type: String, Secret: true, Ours: true,
				Doc: "Session token for temporary credentials."},
			{Name: "aws_profile", Type: String, Ours: true,
				Doc: "Named profile from ~/.aws/config and ~/.aws/credentials to use instead of keys."},
			{Name: "aws_region_name", Type: String, Check: CheckRegion,
				Doc: "Region, e.g. us-east-1; the --region flag wins over it."},
			{Name: "aws_region_host", Type: String, Check: CheckHostName,
				Doc: "EC2 endpoint host for the region (e.g. ec2.eu-west-1.amazonaws.com); becomes the SDK's endpoint override, together with AWS_PORT, AWS_IS_SECURE and AWS_EC2_PATH."},
			{Name: "aws_port", Type: Int,
				Doc: "Port of the endpoint given by AWS_REGION_HOST."},
			{Name: "aws_is_secure", Type: Bool, Default: "true",
				Doc: "Use https for the endpoint given by AWS_REGION_HOST."},
			{Name: "aws_ec2_path", Type: String, Default: "/",
				Doc: "URL path of the endpoint given by AWS_REGION_HOST."},
			{Name: "aws_user_id", Type: String,
				Ignored: "it was only needed to bundle S3 (instance-store) images, which clusterctl does not do"},
			{Name: "ec2_cert", Type: Path,
				Ignored: "it was only needed to bundle S3 (instance-store) images, which clusterctl does not do"},
			{Name: "ec2_private_key", Type: Path,
				Ignored: "it was only needed to bundle S3 (instance-store) images, which clusterctl does not do"},
			{Name: "aws_s3_host", Type: String, Ignored: "clusterctl does not use S3"},
			{Name: "aws_s3_path", Type: String, Ignored: "clusterctl does not use S3"},
			{Name: "aws_proxy", Type: String, Ignored: "set HTTPS_PROXY in the environment; the AWS SDK honours it"},
			{Name: "aws_proxy_port", Type: Int, Ignored: "set HTTPS_PROXY in the environment; the AWS SDK honours it"},
			{Name: "aws_proxy_user", Type: String, Ignored: "set HTTPS_PROXY in the environment; the AWS SDK honours it"},
			{Name: "aws_proxy_pass", Type: String, Secret: true, Ignored: "set HTTPS_PROXY in the environment; the AWS SDK honours it"},
			{Name: "aws_validate_certs", Type: Bool,
				Ignored: "TLS certificates are always verified"},
		}}
}

func keySchema() Schema {
	return Schema{Kind: KindKey,
		Doc: "A key pair: the section name is the EC2 key pair's name.",
		Settings: []Setting{
			{Name: "key_location", Type: Path, Required: true, Example: "~/.ssh/mykey.rsa",
				Doc: "Private key file of the key pair (RSA, ECDSA or ed25519)."},
		}}
}

func volumeSchema() Schema {
	return Schema{Kind: KindVolume,
		Doc: "An EBS volume attached to the master and shared with every node over NFS, or (SHARE = copy) a snapshot copied to a volume of every node's own. [vol NAME] works too.",
		Settings: []Setting{
			{Name: "volume_id", Type: String, Example: "vol-0123456789abcdef0", Check: CheckVolumeID,
				Doc: "The volume's id; required unless SHARE = copy."},
			{Name: "mount_path", Type: String, Required: true, Example: "/data", Check: CheckMountPath,
				Doc: "Absolute path it is mounted at on every node; not /, and unique per cluster."},
			{Name: "device", Type: String,
				Doc: "Device name to attach it as (/dev/sdf .. /dev/sdz); chosen automatically when unset."},
			{Name: "partition", Type: Int,
				Doc: "Partition number to mount; default: the whole device, or its only partition."},
			{Name: "share", Type: String, Default: "master", Choices: []string{"master", "copy"}, Ours: true,
				Doc: "How nodes get the data: master attaches VOLUME_ID to the master and shares it over NFS; copy gives every node, nodes added later by addnode or loadbalance included, a volume of its own created from SNAPSHOT_ID in its zone, for read-heavy data (reference genomes, GBrowse databases, model weights) that one NFS server would throttle."},
			{Name: "snapshot_id", Type: String, Ours: true, Example: "snap-0123456789abcdef0",
				Doc: "Snapshot every node's copy is created from (SHARE = copy); `clusterctl syncdata` makes newer ones, which nodes launched afterwards get."},
			{Name: "read_only", Type: Bool, Default: "true", Ours: true,
				Doc: "Mount the copies read-only (SHARE = copy); false lets each node write to its own copy, and a write stays on that node."},
			{Name: "keep_copies", Type: Bool, Default: "false", Ours: true,
				Doc: "Keep a node's copy when the node is removed or the cluster terminated (SHARE = copy); by default copies are deleted with their node."},
		}}
}

func permissionSchema() Schema {
	return Schema{Kind: KindPermission,
		Doc: "An ingress rule for the cluster's security group.",
		Settings: []Setting{
			{Name: "ip_protocol", Aliases: []string{"protocol"}, Type: String, Default: "tcp", Choices: []string{"tcp", "udp", "icmp"},
				Doc: "Protocol. PROTOCOL, which StarCluster 0.93's template wrote (and StarCluster then ignored), means the same."},
			{Name: "from_port", Type: Int, Required: true, Example: "80",
				Doc: "First port (-1 for icmp)."},
			{Name: "to_port", Type: Int, Required: true, Example: "80",
				Doc: "Last port (-1 for icmp)."},
			{Name: "cidr_ip", Type: String,
				Doc: "Addresses the rule admits. Default: the addresses SSH_CIDR admits (your public address unless the template says otherwise); StarCluster opened the port to the world instead. 0.0.0.0/0 still does that when written, with a warning."},
		}}
}

func pluginSchema() Schema {
	return Schema{Kind: KindPlugin,
		Doc: "A built-in setup plugin and its parameters; list it in a template's PLUGINS to run it.",
		Settings: []Setting{
			{Name: "setup_class", Type: String, Required: true, Example: "pkginstaller",
				Doc: "The built-in plugin to run: its name, or a StarCluster class path such as starcluster.plugins.pkginstaller.PackageInstaller. Every other key is a parameter of that plugin."},
		}}
}

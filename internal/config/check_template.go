package config

import (
	"fmt"
	"net/netip"
	"strings"
)

// checkTemplate runs the checks of a resolved template that need no cloud: references to other
// sections, sizes, names, addresses and mount paths.
func (l *loader) checkTemplate(c *Config, rs *rawSection, t *Template) {
	label := sectionLabel(rs)
	at := func(key string) Pos {
		if p, ok := t.Sources[key]; ok && p.File != "default" {
			return p
		}
		return rs.Pos
	}
	// where names the section a key was written in: an ancestor's, for an inherited value.
	where := func(key string) string {
		if v, ok := rs.Keys[key]; ok && v.Section != "" {
			return v.Section
		}
		return label
	}
	bad := func(key, hint, format string, args ...any) {
		if l.failed[key] {
			return // its parse error is reported already
		}
		l.problem(Problem{Pos: at(key), Section: where(key), Key: key, Msg: fmt.Sprintf(format, args...), Hint: hint})
	}

	if t.KeyName == "" && t.Provider != "local" && !l.failed["provider"] {
		msg, pos := "missing required key KEYNAME", rs.Pos
		if v, ok := rs.Keys["keyname"]; ok {
			msg, pos = "KEYNAME is empty", v.Pos
		}
		l.problem(Problem{Pos: pos, Section: label, Key: "keyname", Msg: msg,
			Hint: "add KEYNAME = mykey (an EC2 key pair with a [key mykey] section)"})
	}
	if t.KeyName != "" {
		if k, ok := c.Keys[t.KeyName]; ok {
			t.Key = k
		} else {
			bad("keyname", orAdd(didYouMean("%s", t.KeyName, sortedKeys(c.Keys)), "add a [key %s] section with KEY_LOCATION", t.KeyName),
				"KEYNAME names key pair %s, which has no [key %s] section", t.KeyName, t.KeyName)
		}
	}
	for _, n := range t.VolumeNames {
		if v, ok := c.Volumes[n]; ok {
			t.Volumes = append(t.Volumes, v)
		} else if !c.declared(KindVolume, n) {
			bad("volumes", didYouMean("%s", n, sortedKeys(c.Volumes)), "VOLUMES names volume %s, which has no [volume %s] section", n, n)
		}
	}
	for _, n := range t.PluginNames {
		if p, ok := c.Plugins[n]; ok {
			t.Plugins = append(t.Plugins, p)
		} else if !c.declared(KindPlugin, n) {
			bad("plugins", didYouMean("%s", n, c.names(KindPlugin)), "PLUGINS names plugin %s, which has no [plugin %s] section", n, n)
		}
	}
	for _, n := range t.PermissionNames {
		if p, ok := c.Permissions[n]; ok {
			t.Permissions = append(t.Permissions, p)
		} else if !c.declared(KindPermission, n) {
			bad("permissions", didYouMean("%s", n, sortedKeys(c.Permissions)), "PERMISSIONS names permission %s, which has no [permission %s] section", n, n)
		}
	}

	if _, set := rs.Keys["cluster_size"]; set && t.ClusterSize < 1 {
		bad("cluster_size", "", "CLUSTER_SIZE must be at least 1 (the master), got %d", t.ClusterSize)
	}
	counted := 0
	for _, s := range t.NodeInstanceType {
		counted += s.Count
	}
	if t.ClusterSize >= 1 && counted > t.ClusterSize-1 && !l.failed["cluster_size"] {
		bad("node_instance_type", fmt.Sprintf("raise CLUSTER_SIZE to %d or lower the counts", counted+1),
			"NODE_INSTANCE_TYPE asks for %d counted workers, but CLUSTER_SIZE %d leaves room for %d", counted, t.ClusterSize, t.ClusterSize-1)
	}
	if t.ClusterUser == "root" {
		bad("cluster_user", "pick a regular account name, e.g. clusteruser", "CLUSTER_USER cannot be root")
	} else if !UserRE.MatchString(t.ClusterUser) {
		bad("cluster_user", "use lower-case letters, digits, - and _", "CLUSTER_USER %q is not a valid user name", t.ClusterUser)
	}
	if t.LoginUser != "" && !UserRE.MatchString(t.LoginUser) {
		bad("login_user", "", "LOGIN_USER %q is not a valid user name", t.LoginUser)
	}
	if t.SpotBid != nil && *t.SpotBid <= 0 {
		bad("spot_bid", "leave SPOT_BID unset for on-demand instances", "SPOT_BID must be more than 0, got %g", *t.SpotBid)
	}
	if _, set := rs.Keys["root_volume_size"]; set && t.RootVolumeSize < 1 {
		bad("root_volume_size", "", "ROOT_VOLUME_SIZE must be at least 1 (GB), got %d", t.RootVolumeSize)
	}
	if t.PublicIPs != nil && !*t.PublicIPs && t.SubnetID == "" {
		bad("public_ips", "set SUBNET_ID, or remove PUBLIC_IPS", "PUBLIC_IPS = false needs a VPC subnet (SUBNET_ID)")
	}
	for _, cidr := range t.SSHCIDR {
		pfx, err := netip.ParsePrefix(cidr)
		if err != nil {
			bad("ssh_cidr", "write an address and prefix length, e.g. 203.0.113.7/32", "SSH_CIDR item %q is not a CIDR", cidr)
			continue
		}
		if pfx.Bits() == 0 {
			l.warn(Problem{Pos: at("ssh_cidr"), Section: label, Key: "ssh_cidr",
				Msg: "SSH_CIDR opens SSH to the world", Hint: "list only the addresses you connect from"})
		}
	}
	l.dataSnapshots(t, bad)
	l.checkMounts(t, bad)
	l.checkUserdataScripts(t, bad)
	l.checkScheduler(t, label, bad)
	if t.Provider != "local" {
		l.checkInstanceTypes(t, where, at)
		l.checkPlaceholders(t, where, at)
	}
}

// checkInstanceTypes warns about instance types EC2 does not have as far as this build knows
// (the AWS SDK's list), with the nearest known one. New types appear faster than releases, so
// this is a warning; the pre-flight check against EC2's own offerings is the authority.
func (l *loader) checkInstanceTypes(t *Template, where func(string) string, at func(string) Pos) {
	if len(l.types) == 0 || l.failed["node_instance_type"] {
		return
	}
	check := func(key, typ string) {
		if typ == "" || l.types[typ] {
			return
		}
		p := Problem{Pos: at(key), Section: where(key), Key: key,
			Msg:  fmt.Sprintf("%s %s is not an EC2 instance type this clusterctl knows", strings.ToUpper(key), typ),
			Hint: "start checks it against EC2's offerings"}
		if s := suggest(typ, knownTypes(l.types)); s != "" {
			p.Hint = "did you mean " + s + "? (" + p.Hint + ")"
		}
		l.warn(p)
	}
	for _, s := range t.NodeInstanceType {
		check("node_instance_type", s.Type)
	}
	check("master_instance_type", t.MasterInstanceType)
}

// checkPlaceholders warns about values still as `config init` wrote them: the example image.
func (l *loader) checkPlaceholders(t *Template, where func(string) string, at func(string) Pos) {
	example, _ := SchemaFor(KindCluster).Lookup("node_image_id")
	for key, v := range map[string]string{"node_image_id": t.NodeImageID, "master_image_id": t.MasterImageID} {
		if v == example.Example {
			l.warn(Problem{Pos: at(key), Section: where(key), Key: key, Placeholder: true,
				Msg:  fmt.Sprintf("%s is still the example %s", strings.ToUpper(key), v),
				Hint: "put an image of your region there (`clusterctl listpublic` lists current Debian and Ubuntu images)"})
		}
	}
}

// checkScheduler resolves SCHEDULER against DISABLE_QUEUE and checks that the scheduler entries
// among the plugins (sge, slurm) set parameters only for the cluster's own scheduler.
func (l *loader) checkScheduler(t *Template, label string, bad func(key, hint, format string, args ...any)) {
	src, ok := t.Sources["scheduler"]
	explicit := ok && src.File != "default"
	if t.DisableQueue {
		if explicit && t.Scheduler != "none" {
			bad("disable_queue", "remove DISABLE_QUEUE, or set SCHEDULER = none", "DISABLE_QUEUE = True contradicts SCHEDULER = %s", t.Scheduler)
		}
		t.Scheduler = "none"
	}
	if t.Scheduler == "none" || l.catalog == nil {
		return
	}
	for _, p := range t.Plugins {
		spec, ok := l.catalog.Lookup(p.Builtin)
		if !ok || spec.Scheduler == "" || spec.Scheduler == t.Scheduler {
			continue
		}
		for _, name := range sortedKeys(p.Set) {
			hint := fmt.Sprintf("remove it, or set SCHEDULER = %s", spec.Scheduler)
			for _, other := range l.catalog.Names() {
				if o, ok := l.catalog.Lookup(other); ok && o.Scheduler == t.Scheduler {
					hint = fmt.Sprintf("remove it (SCHEDULER = %s takes its settings from a [plugin] section with SETUP_CLASS = %s), or set SCHEDULER = %s", t.Scheduler, o.Name, spec.Scheduler)
				}
			}
			l.problem(Problem{Pos: p.Set[name], Section: "plugin " + p.Name, Key: name, Hint: hint,
				Msg: fmt.Sprintf("%s applies only when SCHEDULER = %s, but cluster %s has SCHEDULER = %s", strings.ToUpper(name), spec.Scheduler, strings.TrimPrefix(label, "cluster "), t.Scheduler)})
		}
	}
}

// checkMounts finds volumes of one template that clash: the same mount path, device or volume.
func (l *loader) checkMounts(t *Template, bad func(key, hint, format string, args ...any)) {
	paths, devices, ids := map[string]string{}, map[string]string{}, map[string]string{}
	for _, v := range t.Volumes {
		if v.MountPath == "" {
			continue // its own problem is reported
		}
		p := "/" + strings.Trim(v.MountPath, "/")
		if other, ok := paths[p]; ok {
			bad("volumes", "give each volume its own MOUNT_PATH", "volumes %s and %s both mount at %s", other, v.Name, p)
		}
		paths[p] = v.Name
		if v.Device != "" {
			if other, ok := devices[v.Device]; ok {
				bad("volumes", "give each volume its own DEVICE, or leave DEVICE unset", "volumes %s and %s both use device %s", other, v.Name, v.Device)
			}
			devices[v.Device] = v.Name
		}
		if other, ok := ids[v.VolumeID]; ok && v.VolumeID != "" {
			bad("volumes", "", "volumes %s and %s are the same volume %s", other, v.Name, v.VolumeID)
		}
		ids[v.VolumeID] = v.Name
	}
}

func orAdd(hint, format string, args ...any) string {
	if hint != "" {
		return hint
	}
	return fmt.Sprintf(format, args...)
}

package config

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// applyAWSEnv lets the environment override [aws info] settings under their own names, upper or
// lower case (AWS_ACCESS_KEY_ID), as StarCluster did; the origin is recorded, never the value.
func (l *loader) applyAWSEnv(rs *rawSection) {
	for _, st := range SchemaFor(KindAWS).Settings {
		if st.Ignored != "" {
			continue
		}
		for _, name := range []string{st.Upper(), st.Name} {
			if v, ok := l.env.lookup(name); ok && v != "" {
				rs.set(rawValue{Name: st.Name, Value: v, Pos: Pos{File: "environment ($" + name + ")"}})
				break
			}
		}
	}
}

func (l *loader) checkAWS(cfg *Config) {
	a := cfg.AWS
	if (a.AccessKeyID == "") != (a.SecretAccessKey == "") {
		missing, have := "AWS_SECRET_ACCESS_KEY", "aws_access_key_id"
		if a.AccessKeyID == "" {
			missing, have = "AWS_ACCESS_KEY_ID", "aws_secret_access_key"
		}
		l.problem(Problem{Pos: a.Sources[have], Section: "aws info", Key: strings.ToLower(missing),
			Msg:  "missing required key " + missing,
			Hint: "set both keys, or neither to use the AWS SDK's credential chain"})
	}
}

var deviceRE = regexp.MustCompile(`^/dev/(sd|xvd)[b-z]$`)

func (l *loader) checkVolume(rs *rawSection, v *Volume) {
	at := func(key string) Pos { return rs.Keys[key].Pos }
	if v.MountPath != "" {
		switch {
		case !strings.HasPrefix(v.MountPath, "/"):
			l.problem(Problem{Pos: at("mount_path"), Section: sectionLabel(rs), Key: "mount_path",
				Msg: fmt.Sprintf("MOUNT_PATH %q must be an absolute path", v.MountPath), Hint: "e.g. /data"})
		case strings.Trim(v.MountPath, "/") == "":
			l.problem(Problem{Pos: at("mount_path"), Section: sectionLabel(rs), Key: "mount_path",
				Msg: "MOUNT_PATH cannot be /", Hint: "mount the volume below it, e.g. /data"})
		}
	}
	if v.Device != "" && !deviceRE.MatchString(v.Device) {
		l.problem(Problem{Pos: at("device"), Section: sectionLabel(rs), Key: "device",
			Msg: fmt.Sprintf("DEVICE %q is not an attachable device name", v.Device), Hint: "use /dev/sdf through /dev/sdz, or leave it unset"})
	}
	if _, set := rs.Keys["partition"]; set && v.Partition < 1 {
		l.problem(Problem{Pos: at("partition"), Section: sectionLabel(rs), Key: "partition",
			Msg: fmt.Sprintf("PARTITION must be 1 or more, got %d", v.Partition)})
	}
}

func (l *loader) checkPermission(rs *rawSection, p *Permission) {
	label := sectionLabel(rs)
	at := func(key string) Pos {
		if v, ok := rs.Keys[key]; ok {
			return v.Pos
		}
		return rs.Pos
	}
	_, fromSet := rs.Keys["from_port"]
	_, toSet := rs.Keys["to_port"]
	if fromSet && toSet {
		switch {
		case p.Protocol == "icmp" && (p.FromPort != -1 || p.ToPort != -1):
			l.problem(Problem{Pos: at("from_port"), Section: label, Key: "from_port",
				Msg: fmt.Sprintf("icmp rules take ports -1 to -1, got %d to %d", p.FromPort, p.ToPort)})
		case p.Protocol != "icmp" && (p.FromPort < 0 || p.ToPort > 65535 || p.FromPort > p.ToPort):
			l.problem(Problem{Pos: at("from_port"), Section: label, Key: "from_port",
				Msg:  fmt.Sprintf("port range %d-%d is invalid", p.FromPort, p.ToPort),
				Hint: "ports run from 0 to 65535 and FROM_PORT must not exceed TO_PORT"})
		}
	}
	pfx, err := netip.ParsePrefix(p.CIDR)
	if err != nil {
		l.problem(Problem{Pos: at("cidr_ip"), Section: label, Key: "cidr_ip",
			Msg: fmt.Sprintf("CIDR_IP %q is not a CIDR", p.CIDR), Hint: "write an address and prefix length, e.g. 203.0.113.0/24"})
		return
	}
	if pfx.Bits() == 0 {
		l.warn(Problem{Pos: at("cidr_ip"), Section: label, Key: "cidr_ip",
			Msg:  fmt.Sprintf("permission %s opens %s to the world", p.Name, portText(p)),
			Hint: "set CIDR_IP to the addresses that need it"})
	}
}

func portText(p *Permission) string {
	switch {
	case p.Protocol == "icmp":
		return "icmp"
	case p.FromPort == p.ToPort:
		return fmt.Sprintf("%s port %d", p.Protocol, p.FromPort)
	}
	return fmt.Sprintf("%s ports %d-%d", p.Protocol, p.FromPort, p.ToPort)
}

// plugin resolves a [plugin] section to a built-in and types its parameters by the plugin's
// own declaration.
func (l *loader) plugin(rs *rawSection) *Plugin {
	label := sectionLabel(rs)
	sc, ok := rs.Keys["setup_class"]
	if !ok {
		l.problem(Problem{Pos: rs.Pos, Section: label, Key: "setup_class", Msg: "missing required key SETUP_CLASS",
			Hint: "name a built-in plugin" + builtinList(l.catalog)})
		return nil
	}
	class := strings.TrimSpace(sc.Value)
	var spec PluginSpec
	found := false
	if l.catalog != nil {
		spec, found = l.catalog.Lookup(class)
	}
	if !found {
		l.problem(Problem{Pos: sc.Pos, Section: label, Key: "setup_class",
			Msg:  fmt.Sprintf("SETUP_CLASS %s is not a built-in plugin", class),
			Hint: "plugins are compiled in" + builtinList(l.catalog)})
		return nil
	}
	p := &Plugin{Name: rs.Name, SetupClass: class, Builtin: spec.Name, Params: map[string]any{}, Set: map[string]Pos{}, Pos: rs.Pos}
	params := &rawSection{Kind: KindPlugin, Name: rs.Name, Header: rs.Header, Pos: rs.Pos, Keys: map[string]rawValue{}}
	for _, k := range rs.Order {
		if k != "setup_class" {
			params.set(rs.Keys[k])
		}
	}
	schema := Schema{Kind: KindPlugin, Settings: spec.Params}
	before := len(l.probs)
	for _, k := range params.Order {
		v := params.Keys[k]
		st, ok := schema.Lookup(k)
		if !ok {
			pr := Problem{Pos: v.Pos, Section: label, Key: k,
				Msg: fmt.Sprintf("unknown parameter %s for plugin %s", strings.ToUpper(k), spec.Name)}
			if s := suggest(k, schema.Names()); s != "" {
				pr.Hint = "did you mean " + strings.ToUpper(s) + "?"
			} else if len(spec.Params) > 0 {
				pr.Hint = "its parameters: " + strings.ToUpper(strings.Join(schema.Names(), ", "))
			} else {
				pr.Hint = spec.Name + " takes no parameters"
			}
			l.problem(pr)
			continue
		}
		val, msg := parseValue(st, v.Value, l.env)
		if msg != "" {
			l.problem(Problem{Pos: v.Pos, Section: label, Key: k, Msg: msg})
			continue
		}
		p.Params[st.Name] = val
		p.Set[st.Name] = v.Pos
	}
	for _, st := range spec.Params {
		if _, set := p.Params[st.Name]; set {
			continue
		}
		if st.Required {
			l.problem(Problem{Pos: rs.Pos, Section: label, Key: st.Name,
				Msg: fmt.Sprintf("missing required parameter %s for plugin %s", st.Upper(), spec.Name)})
			continue
		}
		if st.Default != "" {
			p.Params[st.Name], _ = parseValue(st, st.Default, l.env)
		}
	}
	if len(l.probs) > before {
		return nil
	}
	return p
}

func builtinList(c PluginCatalog) string {
	if c == nil || len(c.Names()) == 0 {
		return ""
	}
	return ": " + strings.Join(c.Names(), ", ")
}

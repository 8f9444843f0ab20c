package config

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
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

// accessKeyRE is the shape of an AWS access key id (AKIA..., ASIA...: 16 to 128 upper-case
// letters and digits); a placeholder such as "PUT YOURS HERE" fails it.
var accessKeyRE = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)

func (l *loader) checkAWS(cfg *Config) {
	a := cfg.AWS
	if a.AccessKeyID != "" && !accessKeyRE.MatchString(a.AccessKeyID) {
		l.warn(Problem{Pos: a.Sources["aws_access_key_id"], Section: "aws info", Key: "aws_access_key_id",
			Msg:  "AWS_ACCESS_KEY_ID does not look like an access key id (16 or more capital letters and digits)",
			Hint: "put your key id there, or remove the line to use the AWS SDK's credentials (environment, ~/.aws)"})
	}
	if a.RegionName != "" && !regionRE.MatchString(a.RegionName) {
		p := Problem{Pos: a.Sources["aws_region_name"], Section: "aws info", Key: "aws_region_name",
			Msg: fmt.Sprintf("AWS_REGION_NAME %q is not a region name such as us-east-1", a.RegionName)}
		if strings.Contains(a.RegionName, ".") {
			p.Hint = "it looks like an endpoint host, which belongs in AWS_REGION_HOST"
		}
		l.warn(p)
	}
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

// checkKey warns when KEY_LOCATION is still the example `config init` wrote and no such file
// exists: the key pair is one of the placeholders left to fill in.
func (l *loader) checkKey(rs *rawSection, k *Key) {
	st, _ := SchemaFor(KindKey).Lookup("key_location")
	if k.Location != l.env.ExpandPath(st.Example) {
		return
	}
	if _, err := os.Stat(k.Location); err == nil {
		return
	}
	l.warn(Problem{Pos: rs.Keys["key_location"].Pos, Section: sectionLabel(rs), Key: "key_location", Placeholder: true,
		Msg:  fmt.Sprintf("KEY_LOCATION is still the example %s, which does not exist", st.Example),
		Hint: fmt.Sprintf("create the key pair with `clusterctl createkey %s -o %s`, or point KEY_LOCATION at your key", k.Name, st.Example)})
}

var deviceRE = regexp.MustCompile(`^/dev/(sd|xvd)[b-z]$`)

func (l *loader) checkVolume(rs *rawSection, v *Volume) {
	at := func(key string) Pos { return rs.Keys[key].Pos }
	if v.MountPath != "" {
		v.MountPath = CleanMountPath(v.MountPath) // CheckMountPath allowed a trailing slash
	}
	if v.Device != "" && !l.failed["device"] && !deviceRE.MatchString(v.Device) {
		l.problem(Problem{Pos: at("device"), Section: sectionLabel(rs), Key: "device",
			Msg: fmt.Sprintf("DEVICE %q is not an attachable device name", v.Device), Hint: "use /dev/sdf through /dev/sdz, or leave it unset"})
	}
	if _, set := rs.Keys["partition"]; set && !l.failed["partition"] && v.Partition < 1 {
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
	if p.CIDR == "" {
		return // the template's SSH_CIDR addresses, decided at start
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
		p := l.unknownPlugin(class)
		p.Pos, p.Section, p.Key = sc.Pos, label, "setup_class"
		l.problem(p)
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
		p.Params[st.Name] = l.relativeToFile(st, val, v.Pos)
		p.Set[st.Name] = v.Pos
	}
	for _, st := range spec.Params {
		if _, set := p.Params[st.Name]; set {
			continue
		}
		if _, written := params.Keys[st.Name]; written {
			continue // its value was refused above
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
	if len(l.probs) == before && spec.Check != nil {
		issues := spec.Check(p.Params)
		for _, k := range sortedKeys(issues) {
			pos := rs.Pos
			if v, ok := params.Keys[k]; ok {
				pos = v.Pos
			}
			l.problem(Problem{Pos: pos, Section: label, Key: k, Msg: issues[k]})
		}
	}
	if len(l.probs) > before {
		return nil
	}
	return p
}

// relativeToFile makes the relative paths of a plugin parameter relative to the directory of
// the config file that wrote them (as INCLUDE is), not to wherever clusterctl runs.
func (l *loader) relativeToFile(st Setting, val any, pos Pos) any {
	dir := ""
	for _, f := range l.files {
		if l.show(f) == pos.File {
			dir = filepath.Dir(f)
		}
	}
	abs := func(p string) string {
		if dir == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	switch st.Type {
	case Path:
		return abs(val.(string))
	case PathList:
		items := val.([]string)
		for i := range items {
			items[i] = abs(items[i])
		}
		return items
	}
	return val
}

// unknownPlugin explains a SETUP_CLASS that names no built-in plugin: one of StarCluster's own
// plugins clusterctl does not ship, a Python class (a user's own plugin, which a Go binary
// cannot run: the message shows how to port it to a script plugin), or a typo.
func (l *loader) unknownPlugin(class string) Problem {
	port := "port it to a script plugin (SETUP_CLASS = script, its RUN, ON_ADD_NODE, ... keys naming executables; see \"Script plugins\" in the README)"
	if l.catalog != nil {
		if what, ok := l.catalog.Unshipped(class); ok {
			return Problem{Msg: fmt.Sprintf("SETUP_CLASS %s is StarCluster's %s plugin, which clusterctl does not ship", class, what),
				Hint: port + ", or remove it from the template's PLUGINS"}
		}
	}
	if dot := strings.LastIndexByte(class, '.'); dot > 0 && dot < len(class)-1 {
		module, name := class[:dot], class[dot+1:]
		return Problem{Msg: fmt.Sprintf("SETUP_CLASS %s is a Python plugin (class %s of module %s), which clusterctl cannot run", class, name, module),
			Hint: fmt.Sprintf("%s: what %s.run() did goes in RUN, on_add_node() in ON_ADD_NODE", port, name)}
	}
	p := Problem{Msg: fmt.Sprintf("SETUP_CLASS %s is not a built-in plugin", class), Hint: "plugins are compiled in" + builtinList(l.catalog)}
	if l.catalog != nil {
		if s := suggest(class, l.catalog.Names()); s != "" {
			p.Hint = "did you mean " + s + "?"
		}
	}
	return p
}

func builtinList(c PluginCatalog) string {
	if c == nil || len(c.Names()) == 0 {
		return ""
	}
	return ": " + strings.Join(c.Names(), ", ")
}

package config

import (
	"errors"
	"fmt"
	"net/netip"
	"path"
	"regexp"
	"strings"
	"unicode"
)

// Check validates one value of a setting (each item, for a list) against the exact pattern the
// places it reaches need: a root shell on every node, a file under /etc, an fstab line. It
// returns why the value is refused, phrased to follow the setting's name and value in a
// message ("MOUNT_PATH "/data$(id)" may only use ..."). Values are checked when the config
// loads and again when a cluster's recorded template is read back from the cloud, where anyone
// allowed to tag its resources could have written it.
type Check func(string) error

// checkValue applies the rules every value obeys (one line, no control characters) and the
// setting's own Check to a parsed value, and returns the problem's message or "". Secret
// values are never repeated in a message.
func checkValue(s Setting, v any) string {
	for _, item := range textItems(v) {
		err := CheckSingleLine(item)
		if err == nil && s.Check != nil {
			err = s.Check(item)
		}
		if err == nil {
			continue
		}
		switch {
		case s.Secret:
			return fmt.Sprintf("%s %s", s.Upper(), err)
		case isList(s.Type):
			return fmt.Sprintf("%s item %q %s", s.Upper(), item, err)
		}
		return fmt.Sprintf("%s %q %s", s.Upper(), item, err)
	}
	return ""
}

func isList(t Type) bool { return t == List || t == PathList || t == NodeTypes }

// textItems lists the text a parsed value holds: the string, each list item, each instance
// type and image.
func textItems(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []string:
		return x
	case []InstanceSpec:
		var out []string
		for _, s := range x {
			out = append(out, s.Type)
			if s.Image != "" {
				out = append(out, s.Image)
			}
		}
		return out
	}
	return nil
}

// CheckSingleLine refuses line breaks and other control characters: every value is one line,
// and a line break is what lets a value end a here-document or add a line to a file.
func CheckSingleLine(s string) error {
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r':
			return errors.New("holds a line break: values are one line (separate list items with commas)")
		case unicode.IsControl(r):
			return fmt.Errorf("holds the control character %U", r)
		}
	}
	return nil
}

// match is a Check's body: nil when s matches re, else an error saying why.
func match(re *regexp.Regexp, s, why string) error {
	if !re.MatchString(s) {
		return errors.New(why)
	}
	return nil
}

// pathComponentRE is one component of a path clusterctl writes into shell scripts, fstab and
// exports lines and nspawn bind options: no spaces, quotes, $, `, ',' or ':'.
var pathComponentRE = regexp.MustCompile(`^[A-Za-z0-9._+@-]+$`)

// CheckMountPath accepts an absolute path other than / whose components are plain names
// (a trailing slash is allowed and dropped).
func CheckMountPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return errors.New("must be an absolute path, e.g. /data")
	}
	trimmed := strings.TrimRight(p, "/")
	if trimmed == "" {
		return errors.New("is the root directory: mount the volume below it, e.g. /data")
	}
	return checkComponents(trimmed[1:])
}

// CheckRelativeOrAbsPath accepts an absolute path or one relative to a home directory, with
// plain-name components (notebook_directory).
func CheckRelativeOrAbsPath(p string) error {
	if p == "" {
		return errors.New("is empty")
	}
	return checkComponents(strings.Trim(p, "/"))
}

// CheckAbsPath accepts an absolute path with plain-name components (segway_path).
func CheckAbsPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return errors.New("must be an absolute path")
	}
	if strings.Trim(p, "/") == "" {
		return errors.New("cannot be /")
	}
	return checkComponents(strings.Trim(p, "/"))
}

func checkComponents(rel string) error {
	if len(rel) > 1024 {
		return errors.New("is longer than 1024 characters")
	}
	for _, c := range strings.Split(rel, "/") {
		switch {
		case c == "":
			return errors.New("has an empty component (//)")
		case c == "." || c == "..":
			return fmt.Errorf("has a %q component; write the path without it", c)
		case !pathComponentRE.MatchString(c):
			return errors.New("may only use letters, digits, '.', '_', '+', '@' and '-' between slashes")
		}
	}
	return nil
}

// CleanMountPath is a mount path as stored: without the trailing slash CheckMountPath allows.
func CleanMountPath(p string) string { return path.Clean("/" + strings.Trim(p, "/")) }

var volumeIDRE = regexp.MustCompile(`^vol-[0-9a-f]{1,32}$`)

// CheckVolumeID accepts EC2 volume ids (vol- and 8 or 17 hex digits), the local provider's
// (vol- and 12) and the shorter placeholders StarCluster's own template shows (vol-c999999):
// any run of hex digits is safe in a command line, and EC2 says whether the volume exists.
func CheckVolumeID(id string) error {
	return match(volumeIDRE, id, "is not a volume id (vol- and hex digits, e.g. vol-0123456789abcdef0)")
}

// imageIDRE covers EC2 image ids (ami-...) and local image names (debian-12).
var imageIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// CheckImageID accepts an image id or local image name.
func CheckImageID(id string) error {
	return match(imageIDRE, id, "is not an image id (e.g. ami-0123456789abcdef0, or a local image name such as debian-12)")
}

// CheckInstanceType accepts an instance type name (m5.large, or a local type such as small).
func CheckInstanceType(t string) error {
	return match(instanceTypeRE, t, "is not an instance type name (e.g. m5.large)")
}

// awsNameRE covers what the EC2 API takes as zone, subnet, region and IAM profile names.
var awsNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_+=,.@:/-]*$`)

// CheckAWSName accepts names and ARNs the EC2 API takes (zones, subnets, IAM profiles).
func CheckAWSName(s string) error {
	if !awsNameRE.MatchString(s) || len(s) > 2048 {
		return errors.New("is not an AWS name or ARN (letters, digits and _+=,.@:/-)")
	}
	return nil
}

// regionRE is the shape of a region name (us-east-1, ap-southeast-2, us-gov-west-1).
var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z0-9]+)+-[0-9]+$`)

// regionSafeRE is what a region value may hold at all: it names files on this machine
// (<tag>-<region>.json), so no path separators, spaces or shell characters. A value of this
// shape that is no region name (an endpoint host written where the region belongs, as some
// StarCluster configs do) is a warning of its own (checkAWS), as StarCluster accepted it.
var regionSafeRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]|\.[a-z0-9])*$`)

// CheckRegion accepts a region value that is safe to use in file names and commands.
func CheckRegion(s string) error {
	return match(regionSafeRE, s, "is not an AWS region name (e.g. us-east-1)")
}

// UserRE is a user name useradd accepts on Debian without --badname.
var UserRE = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)

// CheckUserName accepts a regular account name.
func CheckUserName(s string) error {
	return match(UserRE, s, "is not a valid user name (lower-case letters, digits, _ and -, starting with a letter or _)")
}

var hostLabelRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// CheckHostName accepts a host name (RFC 1123 labels) or an IP address.
func CheckHostName(s string) error {
	if _, err := netip.ParseAddr(s); err == nil {
		return nil
	}
	if len(s) > 253 || s == "" {
		return errors.New("is not a host name or address")
	}
	for _, l := range strings.Split(s, ".") {
		if !hostLabelRE.MatchString(l) {
			return errors.New("is not a host name or address")
		}
	}
	return nil
}

// debianPackageRE is a Debian package name (policy 5.6.1), optionally pinned to a version
// (=VERSION) or a release (/RELEASE), as apt-get install takes them. It never starts with '-',
// so no item becomes an apt option.
var debianPackageRE = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+|/[a-z0-9.-]+)?$`)

// CheckDebianPackage accepts a Debian package name.
func CheckDebianPackage(s string) error {
	return match(debianPackageRE, s, "is not a Debian package name (lower-case letters, digits, + . -; optionally =VERSION or /RELEASE)")
}

// pipRequirementRE is a PEP 508 requirement without markers or URLs: a project name, optional
// extras and one version clause (a list item cannot hold a comma).
var pipRequirementRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?(\[[A-Za-z0-9._-]+\])?((===|==|!=|~=|>=|<=|<|>)[A-Za-z0-9.*+!_-]+)?$`)

// CheckPipRequirement accepts a pip requirement such as numpy, pandas>=2 or dask[complete].
func CheckPipRequirement(s string) error {
	return match(pipRequirementRE, s, "is not a pip requirement (a project name, optional [extra] and version, e.g. numpy>=1.26)")
}

var (
	commandTokenRE = regexp.MustCompile(`^[A-Za-z0-9_./=:@+,-]+$`)
	pipProgramRE   = regexp.MustCompile(`^(.*/)?(pip[0-9.]*|python[0-9.]*)$`)
)

// CheckPipCommand accepts an install command for pypkginstaller: pip (pip, pip3, a virtual
// environment's bin/pip, or python3 -m pip) with options of plain characters and %s where
// the packages go. Anything a shell would read specially is refused, since the command runs
// as root on every node.
func CheckPipCommand(s string) error {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return errors.New("is empty")
	}
	for _, f := range fields {
		if f != "%s" && !commandTokenRE.MatchString(f) {
			return fmt.Errorf("has %q: only letters, digits, _ . / = : @ + , - and %%s may appear in the command", f)
		}
	}
	m := pipProgramRE.FindStringSubmatch(fields[0])
	switch {
	case m == nil:
		return errors.New("must run pip (pip, pip3, /path/to/venv/bin/pip or python3 -m pip)")
	case strings.HasPrefix(m[2], "python") && (len(fields) < 3 || fields[1] != "-m" || fields[2] != "pip"):
		return errors.New("must run pip: write python3 -m pip install %s")
	}
	return nil
}

var unitNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9@._:\\-]{0,255}$`)

// CheckUnitName accepts a systemd unit or service name (apache2, mysql.service).
func CheckUnitName(s string) error {
	return match(unitNameRE, s, "is not a service name (letters, digits and @ . _ : - \\)")
}

var wordRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// CheckWord accepts a name of letters, digits, _ and - (a tmux session name).
func CheckWord(s string) error { return match(wordRE, s, "may only use letters, digits, _ and -") }

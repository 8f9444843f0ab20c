package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// A tag is not membership: anyone allowed ec2:CreateTags can put clusterctl:cluster=TAG on an
// instance of theirs, and a member gets root's cluster key, an NFS export with
// no_root_squash, a queue slot, and is terminated with the cluster. So an instance counts
// as a member only when what was fixed at launch agrees: it is in the cluster's security
// group (EC2) or on its bridge (local), it was launched with the cluster's key pair, and its
// alias, role, host key and addresses pass their exact patterns. Other instances are ignored
// with a warning naming the instance and the tag.

// memberProblem says why an instance carrying the cluster's tag is not taken for a member, or
// "" when it is one. rec may be nil (a damaged record): then the key pair and the alias's
// agreement with the role are not checked.
func memberProblem(tag string, cl cloud.Cluster, rec *Record, in cloud.Instance) string {
	if p := launchProblem(tag, cl, rec, in); p != "" {
		return p
	}
	return tagProblem(tag, rec, in)
}

// launchProblem checks what was fixed at launch: the group and the key pair. It is all that
// stop and terminate need, which only call the provider's API: an instance of the cluster
// whose tags were tampered with is still stopped or terminated with it.
func launchProblem(tag string, cl cloud.Cluster, rec *Record, in cloud.Instance) string {
	switch {
	case cl.GroupID == "":
		return fmt.Sprintf("it carries tag %s=%s, but the cluster's %s is gone", cloud.TagCluster, tag, boundary(cl))
	case !slices.Contains(in.Groups, cl.GroupID):
		return fmt.Sprintf("it carries tag %s=%s, but is not in the cluster's %s %s", cloud.TagCluster, tag, boundary(cl), cl.GroupID)
	case rec != nil && rec.KeyName != "" && in.KeyName != rec.KeyName:
		return fmt.Sprintf("it carries tag %s=%s, but was launched with key pair %q, not the cluster's %q", cloud.TagCluster, tag, in.KeyName, rec.KeyName)
	}
	return ""
}

// tagProblem checks the tags whose values reach shells and known_hosts files.
func tagProblem(tag string, rec *Record, in cloud.Instance) string {
	switch {
	case in.Alias != "" && (len(in.Alias) > 63 || !hostnameRE.MatchString(in.Alias)):
		return fmt.Sprintf("tag %s = %q is not a host name", cloud.TagAlias, in.Alias)
	case in.Role != "" && in.Role != cloud.RoleMaster && in.Role != cloud.RoleNode:
		return fmt.Sprintf("tag %s = %q is neither master nor node", cloud.TagRole, in.Role)
	case rec != nil && in.Alias != "" && (in.Role == cloud.RoleMaster) != (in.Alias == rec.MasterAliasFor(tag)):
		return fmt.Sprintf("tags %s = %q and %s = %q disagree", cloud.TagRole, in.Role, cloud.TagAlias, in.Alias)
	}
	if in.HostKey != "" {
		if _, err := ParseHostKey(in.HostKey); err != nil {
			return fmt.Sprintf("tag %s is not one ssh-ed25519 key: %v", cloud.TagHostKey, err)
		}
	}
	for _, a := range []string{in.PrivateIP, in.PublicIP} {
		if a != "" && !isAddr(a) {
			return fmt.Sprintf("its address %q is not an IP address", a)
		}
	}
	return ""
}

// isAddr accepts an IP address, or one with a port (providers whose nodes listen on another
// port than 22 report them so).
func isAddr(a string) bool {
	if _, err := netip.ParseAddr(a); err == nil {
		return true
	}
	_, err := netip.ParseAddrPort(a)
	return err == nil
}

func boundary(cl cloud.Cluster) string {
	if cl.GroupName != "" {
		return "security group " + cl.GroupName
	}
	return "security group"
}

// DuplicateAliasError means two members claim one alias (a tag was rewritten): which one is
// the node is for a person to tell, so commands on the cluster stop until it is resolved.
type DuplicateAliasError struct {
	Tag, Alias string
	IDs        []string
}

func (e *DuplicateAliasError) Error() string {
	return fmt.Sprintf("cluster %s: instances %v all carry tag %s = %s; remove the tag from the one that is not that node",
		e.Tag, e.IDs, cloud.TagAlias, e.Alias)
}

// members keeps the instances that are the cluster's and warns once per command about each
// one that is not. Two members claiming one alias are a DuplicateAliasError, returned with
// the members (terminate removes them all; other commands stop).
func (e *Engine) members(tag string, cl cloud.Cluster, rec *Record, insts []cloud.Instance) ([]cloud.Instance, error) {
	return e.filterMembers(tag, insts, func(in cloud.Instance) string { return memberProblem(tag, cl, rec, in) })
}

// filterMembers keeps the instances problem finds nothing wrong with.
func (e *Engine) filterMembers(tag string, insts []cloud.Instance, problem func(cloud.Instance) string) ([]cloud.Instance, error) {
	out := make([]cloud.Instance, 0, len(insts))
	byAlias := map[string][]string{}
	for _, in := range insts {
		if p := problem(in); p != "" {
			e.warnOnce(fmt.Sprintf("instance %s is not treated as a member of cluster %s: %s; ignored", in.ID, tag, p))
			continue
		}
		out = append(out, in)
		if in.Alias != "" {
			byAlias[in.Alias] = append(byAlias[in.Alias], in.ID)
		}
	}
	for _, in := range out {
		if ids := byAlias[in.Alias]; len(ids) > 1 {
			return out, &DuplicateAliasError{Tag: tag, Alias: in.Alias, IDs: ids}
		}
	}
	return out, nil
}

// instances lists the cluster's members. cl is the cluster when the caller has it; otherwise
// it is looked up (a damaged record still yields its group, which is all membership needs).
func (e *Engine) instances(ctx context.Context, tag string, cl *cloud.Cluster) ([]cloud.Instance, error) {
	insts, err := e.listMembers(ctx, tag, cl, memberProblem)
	if err == nil {
		e.noteVanished(ctx, tag, insts)
	}
	return insts, err
}

// launchedInstances lists the instances launched into the cluster (launchProblem), for stop
// and terminate.
func (e *Engine) launchedInstances(ctx context.Context, tag string, cl *cloud.Cluster) ([]cloud.Instance, error) {
	return e.listMembers(ctx, tag, cl, func(tag string, cl cloud.Cluster, rec *Record, in cloud.Instance) string {
		return launchProblem(tag, cl, rec, in)
	})
}

func (e *Engine) listMembers(ctx context.Context, tag string, cl *cloud.Cluster,
	problem func(string, cloud.Cluster, *Record, cloud.Instance) string) ([]cloud.Instance, error) {
	var c cloud.Cluster
	if cl != nil {
		c = *cl
	} else {
		got, err := e.Provider.GetCluster(ctx, tag)
		if err != nil && !errors.Is(err, cloud.ErrNotFound) && got.GroupID == "" {
			return nil, err
		}
		c = got
	}
	insts, err := e.Provider.Instances(ctx, tag)
	if err != nil {
		return nil, err
	}
	var rec *Record
	if r, err := DecodeRecord(c.Recorded); err == nil {
		rec = &r
	}
	return e.filterMembers(tag, insts, func(in cloud.Instance) string { return problem(tag, c, rec, in) })
}

// warnOnce shows a warning once per engine (one command), however often the cluster's
// instances are listed.
func (e *Engine) warnOnce(msg string) {
	if _, dup := e.warned.LoadOrStore(msg, true); dup {
		return
	}
	if e.Status != nil {
		e.Status.Warnf("%s", msg)
	}
	e.log().Warn(msg)
}

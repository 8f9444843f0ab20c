package ec2

import (
	"fmt"
	"slices"
	"strings"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// PolicyDocument is an IAM policy document, as `aws iam create-policy --policy-document` takes it.
type PolicyDocument struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a policy document. Resource is "*" or a list of ARNs.
type Statement struct {
	Sid       string                    `json:"Sid"`
	Effect    string                    `json:"Effect"`
	Action    []string                  `json:"Action"`
	Resource  any                       `json:"Resource"`
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}

// policyVersion is the current IAM policy language version.
const policyVersion = "2012-10-17"

// Policy builds the least-privilege policy for a purpose from the action table. Without a
// cluster tag every action is allowed on every resource (one statement). With one, every action
// that EC2 can confine is confined to that cluster's resources: created resources must be
// tagged with it in the request, changed ones must carry it, tags given at creation are allowed
// through ec2:CreateAction, and the rest (reads, images, subnets, key pairs, a user's own
// volumes) stay open.
func Policy(p Purpose, clusterTag string) (PolicyDocument, error) {
	if !slices.Contains(Purposes(), p) {
		return PolicyDocument{}, fmt.Errorf("unknown purpose %q (want one of %s)", p, purposeList())
	}
	actions := ActionsFor(p)
	if clusterTag == "" {
		names := make([]string, len(actions))
		for i, a := range actions {
			names[i] = "ec2:" + a.Name
		}
		return PolicyDocument{Version: policyVersion, Statement: []Statement{{Sid: "Clusterctl" + sidWord(string(p)),
			Effect: "Allow", Action: names, Resource: "*"}}}, nil
	}
	var b statementBuilder
	var creators []string
	for _, a := range actions {
		if len(a.Creates)+len(a.Changes)+len(a.Others) == 0 {
			b.add("Read", a.Name, nil, nil)
			continue
		}
		if len(a.Creates) > 0 {
			creators = append(creators, "ec2:"+a.Name)
			b.add("CreateTagged", a.Name, arns(a.Creates), tagCondition("aws:RequestTag/", clusterTag))
		}
		if len(a.Changes) > 0 {
			b.add("ClusterOwned", a.Name, arns(a.Changes), tagCondition("aws:ResourceTag/", clusterTag))
		}
		if len(a.Others) > 0 {
			b.add("Other", a.Name, arns(a.Others), nil)
		}
	}
	for _, a := range actions {
		if a.TagOnCreate && len(creators) > 0 {
			b.add("TagOnCreate", a.Name, []string{"*"}, map[string]map[string]any{"StringEquals": {"ec2:CreateAction": creators}})
		}
	}
	return PolicyDocument{Version: policyVersion, Statement: b.list}, nil
}

// statementBuilder merges actions that share the same resources and condition into one
// statement, so the document stays short.
type statementBuilder struct {
	list []Statement
	keys []string
}

func (b *statementBuilder) add(kind, action string, resources []string, cond map[string]map[string]any) {
	key := kind + "|" + strings.Join(resources, ",") + "|" + fmt.Sprint(cond)
	if i := slices.Index(b.keys, key); i >= 0 {
		b.list[i].Action = append(b.list[i].Action, "ec2:"+action)
		return
	}
	st := Statement{Effect: "Allow", Action: []string{"ec2:" + action}, Resource: "*", Condition: cond}
	if resources != nil {
		st.Resource = resources
	}
	n := 1
	for _, k := range b.keys {
		if strings.HasPrefix(k, kind+"|") {
			n++
		}
	}
	st.Sid = kind
	if kind != "Read" && kind != "TagOnCreate" {
		st.Sid = fmt.Sprintf("%s%d", kind, n)
	}
	b.list, b.keys = append(b.list, st), append(b.keys, key)
}

// tagCondition requires the cluster tag under prefix (aws:RequestTag/ or aws:ResourceTag/).
func tagCondition(prefix, tag string) map[string]map[string]any {
	return map[string]map[string]any{"StringEquals": {prefix + cloud.TagCluster: tag}}
}

// arns turns EC2 resource types into ARN patterns for any region and account. Images and
// snapshots have no account in their ARNs.
func arns(types []string) []string {
	out := make([]string, len(types))
	for i, t := range types {
		account := "*"
		if t == "image" || t == "snapshot" {
			account = ""
		}
		out[i] = fmt.Sprintf("arn:aws:ec2:*:%s:%s/*", account, t)
	}
	return out
}

// sidWord capitalizes a purpose for a statement id ("start" -> "Start").
func sidWord(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func purposeList() string {
	names := make([]string, 0, len(Purposes()))
	for _, p := range Purposes() {
		names = append(names, string(p))
	}
	return strings.Join(names, ", ")
}

package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/clusterctl/clusterctl/internal/cloud/ec2"
)

// observedCalls collects, across every moto test of the package, the EC2 operations each
// command made, by the iam-policy purposes that must allow them.
type observedCalls struct {
	mu  sync.Mutex
	ops map[ec2.Purpose]map[string]string // purpose -> operation -> a command that made it
}

// record files one command's calls under the purposes that command belongs to.
func (o *observedCalls) record(args []string, calls map[string]int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ops == nil {
		o.ops = map[ec2.Purpose]map[string]string{}
	}
	name := commandName(args)
	for _, p := range commandPurposes(name) {
		if o.ops[p] == nil {
			o.ops[p] = map[string]string{}
		}
		for op := range calls {
			o.ops[p][op] = name
		}
	}
}

// uncovered lists the observed operations a purpose's policy does not allow.
func (o *observedCalls) uncovered() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for p, ops := range o.ops {
		allowed := map[string]bool{}
		for _, a := range ec2.ActionsFor(p) {
			allowed[a.Name] = true
		}
		for op, cmd := range ops {
			if !allowed[op] {
				out = append(out, fmt.Sprintf("%s (made by %s) is missing from iam-policy --for %s", op, cmd, p))
			}
		}
	}
	sort.Strings(out)
	return out
}

// commandPurposes says which iam-policy purposes must allow a command's EC2 calls. The balancer
// adds, removes and ends clusters through the engine paths of addnode, removenode and
// terminate, and reads a cluster as listclusters does, so their calls must be in its policy
// too. Every command's calls must be in --for all.
func commandPurposes(cmd string) []ec2.Purpose {
	switch cmd {
	case "addnode", "removenode", "terminate", "listclusters":
		return []ec2.Purpose{ec2.PurposeAll, ec2.PurposeStart, ec2.PurposeLoadbalance}
	case "start", "stop", "restart", "sshmaster", "sshnode", "put", "get", "runplugin":
		return []ec2.Purpose{ec2.PurposeAll, ec2.PurposeStart}
	case "syncdata", "listsnapshots", "prunesnapshots":
		return []ec2.Purpose{ec2.PurposeAll, ec2.PurposeSyncdata}
	}
	return []ec2.Purpose{ec2.PurposeAll}
}

// commandName is the command of a clusterctl command line: the first word that is neither a
// global flag nor its value.
func commandName(args []string) string {
	takesValue := map[string]bool{"--config": true, "--output": true, "-r": true, "--region": true, "--concurrency": true, "--wait-timeout": true}
	for i := 0; i < len(args); i++ {
		switch {
		case takesValue[args[i]]:
			i++
		case !strings.HasPrefix(args[i], "-"):
			return args[i]
		}
	}
	return ""
}

func TestCommandName(t *testing.T) {
	for want, args := range map[string][]string{
		"start":        {"--config", "c.ini", "start", "-o", "demo"},
		"listclusters": {"--output", "json", "listclusters"},
		"syncdata":     {"-d", "syncdata", "demo"},
	} {
		if got := commandName(args); got != want {
			t.Errorf("commandName(%q) = %q, want %q", args, got, want)
		}
	}
}

// TestIAMPolicyCommand: the printed document parses, names only EC2 actions of the table, and
// bad purposes and tags are usage errors.
func TestIAMPolicyCommand(t *testing.T) {
	newHome(t)
	r := cli(t, "iam-policy", "--for", "syncdata", "--tag", "render")
	var doc ec2.PolicyDocument
	if r.code != 0 || json.Unmarshal([]byte(r.out), &doc) != nil || doc.Version != "2012-10-17" {
		t.Fatalf("iam-policy: %+v", r)
	}
	var actions []string
	for _, st := range doc.Statement {
		actions = append(actions, st.Action...)
	}
	for _, want := range []string{"ec2:CreateSnapshot", "ec2:DeleteSnapshot", "ec2:AttachVolume"} {
		if !slices.Contains(actions, want) {
			t.Errorf("syncdata policy lacks %s", want)
		}
	}
	if slices.Contains(actions, "ec2:CreateKeyPair") || !strings.Contains(r.out, `"aws:ResourceTag/clusterctl:cluster": "render"`) {
		t.Errorf("syncdata policy for cluster render:\n%s", r.out)
	}
	if r := cli(t, "iam-policy"); r.code != 0 || !strings.Contains(r.out, `"ec2:CreateKeyPair"`) || !strings.Contains(r.out, `"Resource": "*"`) {
		t.Errorf("iam-policy (all): %+v", r)
	}
	for _, args := range [][]string{{"iam-policy", "--for", "everything"}, {"iam-policy", "--tag", "bad tag"}} {
		if r := cli(t, args...); r.code != exitUsage {
			t.Errorf("%v: exit %d, want usage error: %s", args, r.code, r.errOut)
		}
	}
}

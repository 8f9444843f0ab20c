package ec2

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// TestActionsCoverAPI keeps the action table and the ec2API interface equal: a method added
// without its IAM action (or an action left behind after a method went) fails here.
func TestActionsCoverAPI(t *testing.T) {
	api := reflect.TypeOf((*ec2API)(nil)).Elem()
	var methods []string
	for i := range api.NumMethod() {
		methods = append(methods, api.Method(i).Name)
	}
	var table []string
	seen := map[string]bool{}
	for _, a := range Actions() {
		if seen[a.Name] {
			t.Errorf("action %s is in the table twice", a.Name)
		}
		seen[a.Name] = true
		table = append(table, a.Name)
		for _, p := range a.For {
			if p == PurposeAll || !slices.Contains(Purposes(), p) {
				t.Errorf("action %s names purpose %q", a.Name, p)
			}
		}
	}
	sort.Strings(table)
	sort.Strings(methods)
	for _, m := range methods {
		if !seen[m] {
			t.Errorf("ec2API method %s has no entry in Actions(): add its IAM action", m)
		}
	}
	for _, a := range table {
		if !slices.Contains(methods, a) {
			t.Errorf("Actions() lists %s, which ec2API does not call", a)
		}
	}
}

// TestPolicy: every document parses as an IAM policy, allows exactly the purpose's actions from
// the table, and a cluster tag confines what EC2 lets it confine.
func TestPolicy(t *testing.T) {
	for _, p := range Purposes() {
		for _, tag := range []string{"", "render"} {
			t.Run(string(p)+"/"+tag, func(t *testing.T) {
				doc, err := Policy(p, tag)
				if err != nil {
					t.Fatal(err)
				}
				data, err := json.Marshal(doc)
				if err != nil {
					t.Fatal(err)
				}
				var parsed struct {
					Version   string
					Statement []struct {
						Sid, Effect string
						Action      []string
						Resource    any
						Condition   map[string]map[string]any
					}
				}
				dec := json.NewDecoder(strings.NewReader(string(data)))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&parsed); err != nil || parsed.Version != "2012-10-17" || len(parsed.Statement) == 0 {
					t.Fatalf("not a policy document: %v %s", err, data)
				}
				got := map[string]bool{}
				sids := map[string]bool{}
				for _, st := range parsed.Statement {
					if st.Effect != "Allow" || st.Sid == "" || sids[st.Sid] {
						t.Errorf("statement %+v: want Allow and a unique Sid", st)
					}
					sids[st.Sid] = true
					for _, a := range st.Action {
						name, ok := strings.CutPrefix(a, "ec2:")
						if !ok {
							t.Errorf("action %s is not an EC2 action", a)
						}
						got[name] = true
					}
					if tag == "" && st.Resource != "*" {
						t.Errorf("unscoped policy with resources %v", st.Resource)
					}
				}
				want := map[string]bool{}
				for _, a := range ActionsFor(p) {
					want[a.Name] = true
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("policy allows %v, the table says %v", keys(got), keys(want))
				}
				if tag == "" {
					return
				}
				text := string(data)
				for _, needle := range []string{`"aws:ResourceTag/clusterctl:cluster":"render"`, `"Resource":"*"`} {
					if !strings.Contains(text, needle) {
						t.Errorf("scoped policy lacks %s: %s", needle, text)
					}
				}
			})
		}
	}
	doc, _ := Policy(PurposeLoadbalance, "render")
	stmt := func(action string, resource string) (Statement, bool) {
		for _, st := range doc.Statement {
			res, _ := st.Resource.([]string)
			if slices.Contains(st.Action, action) && (resource == "*" && st.Resource == "*" || slices.Contains(res, resource)) {
				return st, true
			}
		}
		return Statement{}, false
	}
	checks := []struct {
		action, resource, condition string
	}{
		{"ec2:RunInstances", "arn:aws:ec2:*:*:instance/*", "aws:RequestTag/" + cloud.TagCluster},
		{"ec2:RunInstances", "arn:aws:ec2:*::image/*", ""},
		{"ec2:TerminateInstances", "arn:aws:ec2:*:*:instance/*", "aws:ResourceTag/" + cloud.TagCluster},
		{"ec2:CreateTags", "*", "ec2:CreateAction"},
		{"ec2:DescribeInstances", "*", ""},
	}
	for _, c := range checks {
		st, ok := stmt(c.action, c.resource)
		if !ok {
			t.Errorf("no statement allows %s on %s", c.action, c.resource)
			continue
		}
		_, has := st.Condition["StringEquals"][c.condition]
		if (c.condition == "") != (len(st.Condition) == 0) || (c.condition != "" && !has) {
			t.Errorf("%s on %s: condition %v, want %q", c.action, c.resource, st.Condition, c.condition)
		}
	}
	if _, ok := stmt("ec2:CreateKeyPair", "*"); ok {
		t.Error("the loadbalance policy allows creating key pairs")
	}
	if _, err := Policy("everything", ""); err == nil || !strings.Contains(err.Error(), "start, loadbalance, syncdata, all") {
		t.Errorf("unknown purpose: %v", err)
	}
}

// checkObserved verifies, after the package's tests ran, that every EC2 operation the provider
// made against moto is in the action table (and so in `iam-policy --for all`).
func checkObserved(c *CallCounter) []string {
	table := map[string]bool{}
	for _, a := range Actions() {
		table[a.Name] = true
	}
	var missing []string
	for op := range c.Snapshot() {
		if !table[op] {
			missing = append(missing, op)
		}
	}
	sort.Strings(missing)
	return missing
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestCheckObserved(t *testing.T) {
	var c CallCounter
	c.add("RunInstances")
	c.add("DescribeFleets")
	if got := checkObserved(&c); !slices.Equal(got, []string{"DescribeFleets"}) {
		t.Errorf("missing %v, want [DescribeFleets]", got)
	}
}

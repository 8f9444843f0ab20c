package local

import (
	"context"
	"fmt"
	"runtime"
	"strings"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// instanceType is a local instance type: the CPUs and memory a container may use, enforced
// with cgroup limits (a CPU quota and a memory ceiling), so a scheduler that hands out a node's
// slots and memory hands out what the container really has.
type instanceType struct {
	name   string
	cpus   int
	memory int64 // bytes
}

// instanceTypes are the local provider's own types.
func instanceTypes() []instanceType {
	return []instanceType{
		{name: "small", cpus: 1, memory: 1 << 30},
		{name: "medium", cpus: 2, memory: 2 << 30},
		{name: "large", cpus: 2, memory: 4 << 30},
	}
}

// ec2Sizes maps the size part of an EC2 type name (m5.large, t3.micro) to a local type, so a
// template written for EC2 runs locally at a size this machine can give.
var ec2Sizes = map[string]string{"nano": "small", "micro": "small", "small": "small", "medium": "medium", "large": "large"}

// lookupType resolves an instance type name: a local type, or an EC2 name by its size (nano,
// micro and small are small, medium is medium, large and anything larger, xlarge and up or
// metal, is large).
func lookupType(name string) (instanceType, error) {
	for _, t := range instanceTypes() {
		if t.name == name {
			return t, nil
		}
	}
	if family, size, ok := strings.Cut(name, "."); ok && family != "" && !strings.Contains(size, ".") {
		local, known := ec2Sizes[size]
		if !known && (strings.HasSuffix(size, "xlarge") || strings.HasPrefix(size, "metal")) {
			local, known = "large", true
		}
		if known {
			t, err := lookupType(local)
			t.name = name
			return t, err
		}
	}
	var names []string
	for _, t := range instanceTypes() {
		names = append(names, t.name)
	}
	return instanceType{}, fmt.Errorf("unknown instance type %q: the local provider has %s, and EC2 names map to them by size (t3.micro is small, m5.large is large)",
		name, strings.Join(names, ", "))
}

// checkType is the Preflight check of a type: known, and no more CPUs than this machine has.
func checkType(name string) error {
	t, err := lookupType(name)
	if err != nil {
		return err
	}
	if n := runtime.NumCPU(); t.cpus > n {
		return fmt.Errorf("instance type %s has %d CPUs, and this machine only %d", name, t.cpus, n)
	}
	return nil
}

// InstanceTypes describes the named types (cloud.TypeDescriber): what their containers' cgroup
// limits allow.
func (p *Provider) InstanceTypes(_ context.Context, names []string) (map[string]cloud.InstanceType, error) {
	out := map[string]cloud.InstanceType{}
	for _, n := range names {
		t, err := lookupType(n)
		if err != nil {
			return nil, err
		}
		out[n] = cloud.InstanceType{Name: n, CPUs: t.cpus, Memory: t.memory}
	}
	return out, nil
}

var _ cloud.TypeDescriber = (*Provider)(nil)

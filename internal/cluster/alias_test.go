package cluster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

func TestAliases(t *testing.T) {
	if got := NodeAlias(7); got != "node007" {
		t.Errorf("NodeAlias(7) = %s", got)
	}
	if got := NodeAlias(1000); got != "node1000" {
		t.Errorf("NodeAlias(1000) = %s", got)
	}
	cases := []struct {
		alias string
		n     int
	}{{"node001", 1}, {"node999", 999}, {"node1000", 1000}, {"mytag-node012", 12}, {"master", 0}, {"mytag-master", 0}, {"nodeabc", 0}, {"node01", 0}}
	for _, c := range cases {
		if got := NodeNumber(c.alias); got != c.n {
			t.Errorf("NodeNumber(%s) = %d, want %d", c.alias, got, c.n)
		}
	}
	got := NextAliases([]string{"master", "node001", "node999", "node003"}, 2, "t", false)
	if !reflect.DeepEqual(got, []string{"node1000", "node1001"}) {
		t.Errorf("NextAliases = %v", got)
	}
	got = NextAliases([]string{"t-master"}, 2, "t", true)
	if !reflect.DeepEqual(got, []string{"t-node001", "t-node002"}) {
		t.Errorf("NextAliases with prefix = %v", got)
	}
	list := []string{"node1000", "zeta", "node010", "master", "node002"}
	SortAliases(list)
	if !reflect.DeepEqual(list, []string{"master", "node002", "node010", "node1000", "zeta"}) {
		t.Errorf("SortAliases = %v", list)
	}
}

func TestCheckTag(t *testing.T) {
	for tag, ok := range map[string]bool{"mycluster": true, "test-bid": true, "a_b": true, "": false, "-x": false, "has space": false, "x@y": false} {
		if err := CheckTag(tag, false); (err == nil) != ok {
			t.Errorf("CheckTag(%q) = %v", tag, err)
		}
	}
	if err := CheckTag("a_b", true); err == nil {
		t.Error("underscore tag with DNS_PREFIX must be refused: a_b-node001 is no host name")
	}
}

// refusingProvider fails the test on any call: a bad tag must be refused before the provider
// (or any path under the state directory) sees it.
type refusingProvider struct {
	cloud.Provider
	t *testing.T
}

func (p refusingProvider) GetCluster(context.Context, string) (cloud.Cluster, error) {
	p.t.Error("GetCluster called with a bad tag")
	return cloud.Cluster{}, cloud.ErrNotFound
}

func (p refusingProvider) Instances(context.Context, string) ([]cloud.Instance, error) {
	p.t.Error("Instances called with a bad tag")
	return nil, nil
}

func (p refusingProvider) ListClusters(context.Context) ([]cloud.Cluster, error) {
	p.t.Error("ListClusters called with a bad tag")
	return nil, nil
}

// TestEngineRefusesBadTags: the engine checks a tag before any use, whoever calls it.
func TestEngineRefusesBadTags(t *testing.T) {
	state := t.TempDir()
	victim := filepath.Join(state, "victim")
	if err := os.WriteFile(victim, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := &Engine{Provider: refusingProvider{t: t}, StateDir: filepath.Join(state, "clusterctl")}
	ctx := context.Background()
	for _, tag := range []string{"../../victim", "..", "a/b", "-x", "x;id", ""} {
		errs := map[string]error{}
		errs["terminate"] = e.Terminate(ctx, tag)
		errs["stop"] = e.Stop(ctx, tag, false)
		_, errs["access"] = e.Access(ctx, tag, nil)
		_, errs["list"] = e.List(ctx, tag)
		errs["setup"] = e.Setup(ctx, tag, SetupOptions{})
		_, errs["resume"] = e.Start(ctx, StartOptions{Tag: tag, NoCreate: true})
		for op, err := range errs {
			var te *TagError
			if !errors.As(err, &te) {
				t.Errorf("%s %q: want a TagError, got %v", op, tag, err)
			}
		}
	}
	if _, err := os.Stat(victim); err != nil {
		t.Errorf("the file a tag pointed at is gone: %v", err)
	}
}

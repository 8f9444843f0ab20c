package ec2

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// leaseOf reads the lease tag moto holds on group (the empty string when there is none).
func leaseOf(t *testing.T, e *env, group, key string) string {
	t.Helper()
	out, err := e.raw.DescribeTags(e.ctx, &ec2.DescribeTagsInput{Filters: []types.Filter{filter("resource-id", group), filter("key", key)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range out.Tags {
		return aws.ToString(tag.Value)
	}
	return ""
}

func setLease(t *testing.T, e *env, group, key, value string) {
	t.Helper()
	if _, err := e.raw.CreateTags(e.ctx, &ec2.CreateTagsInput{Resources: []string{group},
		Tags: []types.Tag{{Key: aws.String(key), Value: aws.String(value)}}}); err != nil {
		t.Fatal(err)
	}
}

// TestLease: the cluster lease on the group's tag. A second taker is refused at once, naming
// the holder, its pid, host and since when; release removes the tag; a lease past its expiry
// (its holder was killed), one forged to last a year and a tag that is no lease are taken over; a held lease is renewed
// before it expires; the balancer's lease is a tag of its own.
func TestLease(t *testing.T) {
	e := newEnv(t)
	e.p.leaseSettle = 50 * time.Millisecond
	c, err := e.p.CreateCluster(e.ctx, cloud.GroupSpec{Tag: "lk", Recorded: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	me := cloud.Holder{Command: "addnode", PID: 4242, Host: "ws1.example.org"}
	release, err := e.p.LockCluster(e.ctx, "lk", cloud.LockCluster, me)
	if err != nil {
		t.Fatal(err)
	}
	held := leaseOf(t, e, c.GroupID, cloud.TagLease)
	if !strings.Contains(held, " 4242 ws1.example.org addnode") {
		t.Fatalf("lease tag %q", held)
	}
	_, err = e.p.LockCluster(e.ctx, "lk", cloud.LockCluster, cloud.Holder{Command: "terminate", PID: 7, Host: "ws2"})
	var le *cloud.LockedError
	if !errors.As(err, &le) || le.Holder.PID != 4242 || le.Holder.Command != "addnode" || le.Holder.Since.IsZero() {
		t.Fatalf("second taker: %v", err)
	}
	for _, want := range []string{"cluster lk is being changed by clusterctl addnode (pid 4242 on ws1.example.org) since ", "lease ends"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	bal, err := e.p.LockCluster(e.ctx, "lk", cloud.LockBalancer, me)
	if err != nil {
		t.Fatalf("the balancer lease is apart from the cluster lease: %v", err)
	}
	bal()
	release()
	if v := leaseOf(t, e, c.GroupID, cloud.TagLease); v != "" {
		t.Fatalf("lease left after release: %q", v)
	}

	// Taken over: an expired lease, and a value that is no lease at all.
	expired := lease{id: "00112233aabbccdd", holder: cloud.Holder{Command: "start", PID: 1, Host: "gone",
		Since: time.Now().Add(-time.Hour), Expires: time.Now().Add(-time.Minute)}}
	forever := lease{id: "00112233aabbccde", holder: cloud.Holder{Command: "start", PID: 1, Host: "squatter",
		Since: time.Now(), Expires: time.Now().Add(365 * 24 * time.Hour)}}
	for _, stale := range []string{expired.encode(), forever.encode(), "rm -rf /; $(reboot)"} {
		setLease(t, e, c.GroupID, cloud.TagLease, stale)
		release, err := e.p.LockCluster(e.ctx, "lk", cloud.LockCluster, me)
		if err != nil {
			t.Fatalf("stale lease %q not taken over: %v", stale, err)
		}
		if v := leaseOf(t, e, c.GroupID, cloud.TagLease); !strings.Contains(v, "addnode") {
			t.Errorf("after taking over %q the tag is %q", stale, v)
		}
		release()
	}

	// Renewed while held: with a 300 ms lease, a second taker is still refused a second later.
	e.p.leaseTTL = 300 * time.Millisecond
	release, err = e.p.LockCluster(e.ctx, "lk", cloud.LockCluster, me)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if _, err := e.p.LockCluster(e.ctx, "lk", cloud.LockCluster, cloud.Holder{Command: "repair", PID: 9, Host: "ws2"}); !errors.Is(err, cloud.ErrLocked) {
		t.Errorf("a renewed lease was taken: %v", err)
	}
	release()

	// A lease someone else took after ours expired is theirs: our release leaves it.
	release, err = e.p.LockCluster(e.ctx, "lk", cloud.LockCluster, me)
	if err != nil {
		t.Fatal(err)
	}
	theirs := lease{id: "ffeeddccbbaa9988", holder: cloud.Holder{Command: "terminate", PID: 2, Host: "ws3",
		Since: time.Now(), Expires: time.Now().Add(time.Hour)}}
	setLease(t, e, c.GroupID, cloud.TagLease, theirs.encode())
	release()
	if v := leaseOf(t, e, c.GroupID, cloud.TagLease); v != theirs.encode() {
		t.Errorf("release removed another holder's lease: now %q", v)
	}
}

// TestLeaseOneWinner: takers racing for a free lease (as two machines would) end with exactly
// one holder; the others are refused naming it.
func TestLeaseOneWinner(t *testing.T) {
	e := newEnv(t)
	e.p.leaseSettle = 400 * time.Millisecond
	if _, err := e.p.CreateCluster(e.ctx, cloud.GroupSpec{Tag: "race", Recorded: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	const takers = 5
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		winners  []int
		refusals int
		releases []func()
	)
	for i := range takers {
		wg.Go(func() {
			release, err := e.p.LockCluster(e.ctx, "race", cloud.LockCluster, cloud.Holder{Command: "addnode", PID: 100 + i, Host: "ws"})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				winners = append(winners, 100+i)
				releases = append(releases, release)
			case errors.Is(err, cloud.ErrLocked):
				refusals++
			default:
				t.Errorf("taker %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	for _, r := range releases {
		r()
	}
	if len(winners) != 1 || refusals != takers-1 {
		t.Fatalf("winners %v, refusals %d; want one winner", winners, refusals)
	}
}

// TestLeaseParse: only the exact form is a lease; hosts and commands are cleaned before they
// are written, so what one machine writes another reads back.
func TestLeaseParse(t *testing.T) {
	now := time.Unix(1700000000, 0)
	l := lease{id: "0123456789abcdef", holder: cloud.Holder{Command: "Add Node!", PID: 12, Host: "ws 1;rm",
		Since: now, Expires: now.Add(time.Minute)}}
	back, ok := parseLease(l.encode())
	if !ok || back.holder.Host != "ws-1-rm" || back.holder.Command != "add-node-" || back.holder.PID != 12 || !back.holder.Expires.Equal(now.Add(time.Minute)) {
		t.Fatalf("round trip of %q: %+v %v", l.encode(), back, ok)
	}
	for _, bad := range []string{
		"", "v2 0123456789abcdef 1 2 3 h c", "v1 0123456789abcdef 1 2 3 h c\nx", "v1 0123456789ABCDEF 1 2 3 h c",
		"v1 0123456789abcdef 1 2 3 h;id c", "v1 0123456789abcdef 1 2 3 h C", "v1 0123456789abcdef x 2 3 h c",
	} {
		if _, ok := parseLease(bad); ok {
			t.Errorf("%q parsed as a lease", bad)
		}
	}
}

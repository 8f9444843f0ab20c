package ec2

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// Lease defaults: a lease lasts DefaultLeaseTTL unless renewed (every third of it while held),
// so a command killed with -9 keeps others out that long at most; a new lease is read back
// DefaultLeaseSettle after it was written, longer than the time allowed between reading the
// old one and writing (half of it).
const (
	DefaultLeaseTTL    = 2 * time.Minute
	DefaultLeaseSettle = 2 * time.Second
)

// maxLeaseAttempts bounds the rounds of taking a lease when EC2 is too slow to take it safely.
const maxLeaseAttempts = 6

var _ cloud.Locker = (*Provider)(nil)

// sleepJitter waits a random time up to d, so takers that collided do not collide again.
func sleepJitter(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(time.Duration(mrand.Int64N(int64(d) + 1))):
	}
}

// LockCluster takes the cluster's lease, a tag on its security group (cloud.TagLease, or
// TagLease-NAME for other locks) whose value says who holds it and until when. EC2 has no
// conditional tag write, so a lease is taken in three moves that make two takers see each
// other: read the tag (an unexpired lease of another refuses at once); remove an expired one
// with a conditional DeleteTags (it deletes only while the value is the one read, so a lease
// someone renewed meanwhile stays) and read again; write ours; read it back a settle time
// later. Whoever wrote last holds it, and because a taker's write lands within half the settle
// time of its read (one that took longer, EC2 throttling it, withdraws and tries again), the
// one who wrote first reads the other's value back and gives way. While held, the lease is
// renewed; release removes it, again only while it is ours.
func (p *Provider) LockCluster(ctx context.Context, tag, name string, h cloud.Holder) (func(), error) {
	c, err := p.GetCluster(ctx, tag)
	if c.GroupID == "" {
		return nil, fmt.Errorf("lock cluster %s: %w", tag, err)
	}
	key := leaseKey(name)
	for attempt := 1; ; attempt++ {
		read := time.Now()
		cur, err := p.readLease(ctx, c.GroupID, key)
		if err != nil {
			return nil, err
		}
		if cur != "" {
			if l, ok := parseLease(cur); ok && p.current(l) {
				return nil, &cloud.LockedError{Tag: tag, Name: name, Holder: l.holder}
			}
			if _, err := p.api.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{c.GroupID},
				Tags: []types.Tag{{Key: aws.String(key), Value: aws.String(cur)}}}, p.leaseCall); err != nil {
				return nil, fmt.Errorf("remove the expired lease of cluster %s: %w", tag, err)
			}
			if attempt >= maxLeaseAttempts {
				return nil, fmt.Errorf("lock cluster %s: its lease tag %s keeps changing under us", tag, key)
			}
			continue // read again: the delete changed what there is to see
		}
		now := time.Now()
		h.Since, h.Expires = now, now.Add(p.leaseTTL)
		mine := lease{id: leaseID(), holder: h}
		if err := p.writeLease(ctx, c.GroupID, key, mine); err != nil {
			return nil, err
		}
		if gap := time.Since(read); gap > p.leaseSettle/2 {
			// Too long between our read and our write (EC2 throttled one of them): another
			// taker's read-back could miss our write. Withdraw it and try again.
			p.dropLease(c.GroupID, key, mine.encode())
			if attempt >= maxLeaseAttempts {
				return nil, fmt.Errorf("lock cluster %s: EC2 answers too slowly to take its lease safely (%s between reading and writing it, more than %s) after %d attempts; try again",
					tag, gap.Round(time.Millisecond), p.leaseSettle/2, attempt)
			}
			sleepJitter(ctx, p.leaseSettle)
			continue
		}
		select {
		case <-ctx.Done():
			p.dropLease(c.GroupID, key, mine.encode())
			return nil, ctx.Err()
		case <-time.After(p.leaseSettle):
		}
		back, err := p.readLease(ctx, c.GroupID, key)
		if err != nil {
			p.dropLease(c.GroupID, key, mine.encode())
			return nil, err
		}
		if back == mine.encode() {
			return p.keepLease(c.GroupID, key, mine), nil
		}
		if l, ok := parseLease(back); ok {
			return nil, &cloud.LockedError{Tag: tag, Name: name, Holder: l.holder}
		}
		if attempt >= maxLeaseAttempts {
			return nil, fmt.Errorf("lock cluster %s: its lease tag %s keeps changing under us", tag, key)
		}
	}
}

// maxClockSkew is how far another machine's clock may be ahead: a lease that ends later than
// a lease's time to live plus this was not written by clusterctl, and does not hold.
const maxClockSkew = 10 * time.Minute

// current reports whether a lease holds now: it has not ended, and it ends no later than a
// lease written now could (a tag forged to hold for a year is not a lease).
func (p *Provider) current(l lease) bool {
	now := time.Now()
	return l.holder.Expires.After(now) && l.holder.Expires.Before(now.Add(p.leaseTTL+maxClockSkew))
}

// keepLease renews a held lease until the returned release is called, which removes it.
func (p *Provider) keepLease(groupID, key string, l lease) func() {
	stop := make(chan struct{})
	done := make(chan struct{})
	var mu sync.Mutex
	go func() {
		defer close(done)
		t := time.NewTicker(p.leaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), p.leaseTTL/3)
			cur, err := p.readLease(ctx, groupID, key)
			mu.Lock()
			lost := err == nil && cur != l.encode()
			if err == nil && !lost {
				next := l
				next.holder.Expires = time.Now().Add(p.leaseTTL)
				if p.writeLease(ctx, groupID, key, next) == nil {
					l = next
				}
			}
			mu.Unlock()
			cancel()
			if lost {
				return // taken over after it expired: nothing of ours to renew
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			<-done
			mu.Lock()
			defer mu.Unlock()
			p.dropLease(groupID, key, l.encode())
		})
	}
}

// dropLease removes the lease while it still has value: a conditional delete, so a lease
// someone else took since is left alone. It outlives the caller's context (an interrupted
// command still gives the lease back) but not by much.
func (p *Provider) dropLease(groupID, key, value string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, _ = p.api.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{groupID},
		Tags: []types.Tag{{Key: aws.String(key), Value: aws.String(value)}}}, p.leaseCall)
}

func (p *Provider) readLease(ctx context.Context, groupID, key string) (string, error) {
	out, err := p.api.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []types.Filter{
		filter("resource-id", groupID), filter("key", key)}}, p.leaseCall)
	if err != nil {
		return "", fmt.Errorf("read the lease of %s: %w", groupID, err)
	}
	for _, t := range out.Tags {
		if aws.ToString(t.Key) == key && aws.ToString(t.ResourceId) == groupID {
			return aws.ToString(t.Value), nil
		}
	}
	return "", nil
}

func (p *Provider) writeLease(ctx context.Context, groupID, key string, l lease) error {
	_, err := p.api.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{groupID},
		Tags: []types.Tag{{Key: aws.String(key), Value: aws.String(l.encode())}}}, p.leaseCall)
	if err != nil {
		return fmt.Errorf("write the lease of %s: %w", groupID, err)
	}
	return nil
}

// leaseCall gives the lease's calls a retryer of their own: a few quick retries and none of
// the adaptive mode's client-side slowing, so a read and the write after it stay within half
// the settle time while EC2 throttles (the lease is a handful of calls per command).
func (p *Provider) leaseCall(o *ec2.Options) {
	base := p.retryBase
	if base <= 0 {
		base = 50 * time.Millisecond
	}
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = 5
		so.MaxBackoff = 4 * base
		so.Backoff = jitterBackoff{base: base, max: so.MaxBackoff}
		so.RateLimiter = ratelimit.None
	})
}

// leaseKey is the tag of lock name: cloud.TagLease for the cluster lock, TagLease-NAME else.
func leaseKey(name string) string {
	if name == "" || name == cloud.LockCluster {
		return cloud.TagLease
	}
	return cloud.TagLease + "-" + name
}

// lease is a lease tag's value: "v1 ID SINCE EXPIRES PID HOST COMMAND", times in Unix
// milliseconds. ID tells apart two leases of one process.
type lease struct {
	id     string
	holder cloud.Holder
}

// leasePattern is the exact form of a lease read back: the tag is anyone's to rewrite, and its
// host and command end up in messages.
var leasePattern = regexp.MustCompile(`^v1 ([0-9a-f]{16}) ([0-9]{1,15}) ([0-9]{1,15}) ([0-9]{1,10}) ([A-Za-z0-9.-]{1,64}) ([a-z-]{1,32})$`)

func (l lease) encode() string {
	h := l.holder
	return fmt.Sprintf("v1 %s %d %d %d %s %s", l.id, h.Since.UnixMilli(), h.Expires.UnixMilli(), h.PID, safeWord(h.Host, 64, hostRune, "unknown-host"), safeWord(strings.ToLower(h.Command), 32, commandRune, "clusterctl"))
}

// parseLease reads a lease tag; anything not in the exact form is no lease (and, since it
// cannot say when it ends, is removed like an expired one).
func parseLease(s string) (lease, bool) {
	m := leasePattern.FindStringSubmatch(s)
	if m == nil {
		return lease{}, false
	}
	since, _ := strconv.ParseInt(m[2], 10, 64)
	expires, _ := strconv.ParseInt(m[3], 10, 64)
	pid, _ := strconv.Atoi(m[4])
	return lease{id: m[1], holder: cloud.Holder{Command: m[6], PID: pid, Host: m[5],
		Since: time.UnixMilli(since), Expires: time.UnixMilli(expires)}}, true
}

// safeWord keeps the characters a lease allows in a field (allowed), replacing others with
// '-', at most n of them.
func safeWord(s string, n int, allowed func(rune) bool, fallback string) string {
	s = strings.Map(func(r rune) rune {
		if allowed(r) {
			return r
		}
		return '-'
	}, s)
	if len(s) > n {
		s = s[:n]
	}
	if strings.Trim(s, "-") == "" {
		return fallback
	}
	return s
}

func hostRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.'
}

func commandRune(r rune) bool { return r >= 'a' && r <= 'z' || r == '-' }

func leaseID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

package ec2

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"golang.org/x/sync/errgroup"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// tagNotFoundRetries bounds the retries of CreateTags on an instance EC2 does not know yet
// (InvalidInstanceID.NotFound right after RunInstances is routine at scale: issues #543, #582).
const tagNotFoundRetries = 10

// tagAliases writes each instance's alias and Name tags, and its public host key when hostKeys
// has one (one CreateTags per instance, since the values differ), at most p.parallel at a
// time, and records them in insts. The host key tag lets any machine rebuild known_hosts from
// EC2 alone. Instances without an alias are reported. Every instance is attempted; all
// failures are joined.
func (p *Provider) tagAliases(ctx context.Context, tag string, insts []cloud.Instance, hostKeys map[string]string) error {
	var (
		mu   sync.Mutex
		errs []error
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(p.parallel)
	for i := range insts {
		in := &insts[i]
		if in.Alias == "" {
			mu.Lock()
			errs = append(errs, fmt.Errorf("instance %s has no alias for its launch index", in.ID))
			mu.Unlock()
			continue
		}
		tags := map[string]string{cloud.TagAlias: in.Alias, cloud.TagName: tag + "-" + in.Alias}
		if pub := hostKeys[in.Alias]; pub != "" {
			tags[cloud.TagHostKey] = pub
		}
		g.Go(func() error {
			if err := p.createTags(gctx, in.ID, tags); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("tag %s as %s: %w", in.ID, in.Alias, err))
				mu.Unlock()
				return nil // keep tagging the others
			}
			mu.Lock()
			if in.Tags == nil {
				in.Tags = map[string]string{}
			}
			for k, v := range tags {
				in.Tags[k] = v
			}
			in.HostKey = tags[cloud.TagHostKey]
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait() // the goroutines report through errs
	return errors.Join(errs...)
}

// createTags tags one resource, retrying while EC2 does not see it yet.
func (p *Provider) createTags(ctx context.Context, id string, tags map[string]string) error {
	delay := min(p.poll, time.Second)
	for attempt := 1; ; attempt++ {
		_, err := p.api.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: tagList(tags)})
		if err == nil || !isCode(err, codeInstanceNotFound) || attempt == tagNotFoundRetries {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

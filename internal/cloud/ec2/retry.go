package ec2

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go/middleware"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// How clusterctl rides out EC2 throttling (RequestLimitExceeded) and server errors (500, 503):
// the SDK's adaptive retry mode, which backs off exponentially with jitter and, once EC2
// throttles, also slows the rate at which this process sends requests; at most
// maxRetryAttempts attempts per call, at most maxRetryBackoff between two; and a budget, the
// SDK's retry quota (a bucket of DefaultRetryBudget tokens, a retry costs 5, a call that
// succeeds at once gives one back), so a command facing an outage stops retrying and says so
// instead of piling more load on EC2. Each backoff is reported (Options.OnRetry) for a status
// line.
const (
	maxRetryAttempts = 10
	maxRetryBackoff  = 20 * time.Second
	// DefaultRetryBudget is the retry quota's size in tokens.
	DefaultRetryBudget = 500
)

// RetryEvent is one backoff before an EC2 call is tried again.
type RetryEvent struct {
	// Attempt is the attempt that failed (1 for the first), of MaxAttempts.
	Attempt, MaxAttempts int
	Delay                time.Duration
	// Code is EC2's error code (RequestLimitExceeded, InternalError) or the HTTP status.
	Code string
	Err  error
}

// newRetryer builds the adaptive retryer, reporting each backoff to onRetry. base, when set,
// replaces the SDK's one second as the backoff's unit (tests against moto).
func newRetryer(budget int, base time.Duration, onRetry func(RetryEvent)) aws.Retryer {
	r := retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
		o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) {
			so.MaxAttempts = maxRetryAttempts
			so.MaxBackoff = maxRetryBackoff
			if base > 0 {
				so.MaxBackoff = maxRetryBackoff * base / time.Second
				so.Backoff = jitterBackoff{base: base, max: so.MaxBackoff}
			}
			if budget > 0 {
				so.RateLimiter = ratelimit.NewTokenRateLimit(uint(budget))
			}
			// A launch EC2 has no capacity for fails now, so the next zone or type is tried
			// at once rather than after minutes of retries of the same one.
			so.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
				if capacityCode(apiCode(err)) {
					return aws.FalseTernary
				}
				return aws.UnknownTernary
			})}, so.Retryables...)
		})
	})
	return &reportingRetryer{RetryerV2: r, onRetry: onRetry}
}

// reportingRetryer is a retryer that says when it backs off.
type reportingRetryer struct {
	aws.RetryerV2
	onRetry func(RetryEvent)
}

func (r *reportingRetryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	d, derr := r.RetryerV2.RetryDelay(attempt, err)
	if derr == nil && r.onRetry != nil {
		code := apiCode(err)
		if code == "" {
			code = httpStatus(err)
		}
		r.onRetry(RetryEvent{Attempt: attempt, MaxAttempts: r.MaxAttempts(), Delay: d, Code: code, Err: err})
	}
	return d, derr
}

// jitterBackoff is the SDK's backoff (full jitter over an exponential, capped) on another unit.
type jitterBackoff struct{ base, max time.Duration }

func (b jitterBackoff) BackoffDelay(attempt int, _ error) (time.Duration, error) {
	d := min(b.base<<min(attempt, 30), b.max)
	return time.Duration(rand.Int64N(int64(d) + 1)), nil
}

// ThrottledError is an EC2 call that still failed when its retries or the retry budget ran
// out: EC2 kept throttling or failing on its side.
type ThrottledError struct {
	Operation string
	Err       error
}

func (e *ThrottledError) Error() string {
	var quota ratelimit.QuotaExceededError
	why := fmt.Sprintf("EC2 kept refusing %s through %d attempts", e.Operation, maxRetryAttempts)
	if errors.As(e.Err, &quota) {
		why = fmt.Sprintf("EC2 refused %s and this command's retry budget is spent (EC2 has been throttling or failing for a while)", e.Operation)
	}
	return why + "; wait a few minutes and run the command again (it resumes where it stopped): " + e.Err.Error()
}

func (e *ThrottledError) Unwrap() error { return e.Err }

// explainRetries is middleware around the whole call (retries included) that turns a call
// whose retries ran out into a *ThrottledError, which says what happened and what to do.
func explainRetries() func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("clusterctlExplainRetries",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				var attempts *retry.MaxAttemptsError
				var quota ratelimit.QuotaExceededError
				if err != nil && (errors.As(err, &attempts) || errors.As(err, &quota)) {
					err = &ThrottledError{Operation: middleware.GetOperationName(ctx), Err: err}
				}
				return out, md, err
			}), middleware.Before)
	}
}

// capacityCode reports whether an EC2 error code means no capacity or a bid too low, which the
// engine answers by trying the template's alternatives.
func capacityCode(code string) bool {
	switch code {
	case cloud.CodeNoCapacity, "InsufficientCapacity", "InsufficientHostCapacity", cloud.CodePriceTooLow:
		return true
	}
	return false
}

// httpStatus names the HTTP status of a failed call, for errors without an EC2 code.
func httpStatus(err error) string {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() != 0 {
		return fmt.Sprintf("HTTP %d", re.HTTPStatusCode())
	}
	return "no answer"
}

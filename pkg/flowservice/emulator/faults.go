package emulator

import (
	"context"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// faults injects the configured faults. Its random source is seeded by
// Options.Seed and every API request draws the same four numbers in arrival
// order, whichever faults are enabled, so the n-th request of a sequential
// client meets the same fate on every run.
type faults struct {
	opts    Options
	now     func() time.Time
	limiter *rate.Limiter // nil without a rate limit

	mu  sync.Mutex
	rng *rand.Rand
}

// fate is the set of faults drawn for one request.
type fate struct {
	latency time.Duration
	status  int  // 500 or 503 to inject a server error, 0 otherwise
	lost    bool // drop the response if the request is a successful write
}

func newFaults(opts Options, now func() time.Time) *faults {
	f := &faults{
		opts: opts,
		now:  now,
		rng:  rand.New(rand.NewPCG(uint64(opts.Seed), 0)),
	}
	if opts.RateLimit > 0 {
		burst := opts.RateBurst
		if burst == 0 {
			burst = int(math.Ceil(opts.RateLimit))
		}
		f.limiter = rate.NewLimiter(rate.Limit(opts.RateLimit), burst)
	}
	return f
}

func (f *faults) draw() fate {
	f.mu.Lock()
	jitter, failRoll, kindRoll, lostRoll := f.rng.Float64(), f.rng.Float64(), f.rng.Float64(), f.rng.Float64()
	f.mu.Unlock()

	ft := fate{latency: f.opts.Latency + time.Duration(jitter*float64(f.opts.LatencyJitter))}
	if failRoll < f.opts.ErrorRate {
		ft.status = 500
		if kindRoll < 0.5 {
			ft.status = 503
		}
	}
	ft.lost = lostRoll < f.opts.LostResponseRate
	return ft
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// allow takes a token from the bucket. When none is left it returns false
// and the value of the Retry-After header: whole seconds, rounded up, or ""
// when the header is to be omitted.
func (f *faults) allow() (ok bool, retryAfter string) {
	if f.limiter == nil {
		return true, ""
	}
	now := f.now()
	r := f.limiter.ReserveN(now, 1)
	if !r.OK() {
		return false, seconds(time.Second)
	}
	wait := r.DelayFrom(now)
	if wait == 0 {
		return true, ""
	}
	r.CancelAt(now)
	switch {
	case f.opts.RetryAfter < 0:
		return false, ""
	case f.opts.RetryAfter > 0:
		return false, seconds(f.opts.RetryAfter)
	default:
		return false, seconds(wait)
	}
}

// seconds formats d as a Retry-After delay: whole seconds, rounded up.
func seconds(d time.Duration) string {
	return strconv.FormatInt(int64(math.Ceil(d.Seconds())), 10)
}

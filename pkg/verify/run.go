package verify

import (
	"context"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/apply-cli/apply/pkg/spec"
)

// DefaultParallelism is the number of sources checked at once when
// Options.Parallelism is not set.
const DefaultParallelism = 8

// Options configures [Run].
type Options struct {
	// Parallelism is the maximum number of checks at once; zero or
	// negative means DefaultParallelism. The bound keeps a run over many
	// manifests that name the same server from opening a burst of
	// connections to it.
	Parallelism int

	// Timeout bounds each check; zero or negative means DefaultTimeout.
	Timeout time.Duration
}

// Run checks every MySQL and MariaDB source among manifests, in parallel,
// and returns one result per such manifest, in manifest order. Manifests of
// other sources are left out, so the result is empty when there are none.
// Manifests whose params cannot describe a connection get an Invalid
// result. Once ctx is canceled, checks not yet started get a Failed result
// saying so.
func Run(ctx context.Context, manifests []*spec.Manifest, opts Options) []Result {
	limit := opts.Parallelism
	if limit <= 0 {
		limit = DefaultParallelism
	}

	// Build every target first, so that results is not grown while checks
	// write into it.
	var (
		results []Result
		targets []*Target // nil where the result is already known
	)
	for _, m := range manifests {
		t, ok, err := TargetFromManifest(m)
		switch {
		case !ok:
			continue
		case err != nil:
			r := invalidResult(err)
			r.Name = m.Name
			results = append(results, r)
			targets = append(targets, nil)
		default:
			results = append(results, Result{Name: m.Name})
			targets = append(targets, &t)
		}
	}

	var g errgroup.Group
	g.SetLimit(limit)
	for i, t := range targets {
		if t == nil {
			continue
		}
		g.Go(func() error {
			if ctx.Err() != nil {
				results[i] = Result{Name: t.Name, Outcome: Failed, Detail: "check canceled", Hint: "run the check again"}
				return nil
			}
			results[i] = Check(ctx, *t, opts.Timeout)
			return nil
		})
	}
	g.Wait()
	return results
}

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
	// Parallelism is the maximum number of checks at once. Zero or
	// negative means [DefaultParallelism]. The bound keeps a run over many
	// manifests that name the same server from opening a burst of
	// connections to it.
	Parallelism int

	// Timeout bounds each check. Zero or negative means [DefaultTimeout].
	Timeout time.Duration
}

// Run checks every MySQL and MariaDB source among manifests, in parallel,
// and returns one result per manifest, in manifest order. Manifests of
// other sources get a Skipped result, and manifests whose params cannot
// describe a connection an Invalid one. Once ctx is canceled, checks not
// yet started get a Failed result stating so.
func Run(ctx context.Context, manifests []*spec.Manifest, opts Options) []Result {
	limit := opts.Parallelism
	if limit <= 0 {
		limit = DefaultParallelism
	}

	results := make([]Result, len(manifests))
	targets := make([]*Target, len(manifests)) // nil where the result is already known
	for i, m := range manifests {
		t, ok, err := TargetFromManifest(m)
		switch {
		case !ok:
			results[i] = skippedResult(m.ConnectionSpec.ID)
		case err != nil:
			results[i] = invalidResult(err)
		default:
			targets[i] = &t
		}
		results[i].Name = m.Name
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

package main

import (
	"fmt"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/apply-cli/apply/pkg/apply"
)

// barDelay is how long an apply runs before a progress bar appears on a
// terminal, so that quick runs print nothing but their result.
const barDelay = 500 * time.Millisecond

// progress reports the progress of an apply on stderr: a progress bar on a
// terminal, and elsewhere (CI logs, files) one line per finished action
// and a final summary. Failures are always printed as lines.
type progress struct {
	e        *env
	terminal bool

	mu      sync.Mutex
	bar     *progressbar.ProgressBar
	started time.Time
	total   int // actions that send requests
	done    int
}

func newProgress(e *env) *progress {
	return &progress{e: e, terminal: isTerminal(e.stderr)}
}

// start begins reporting the apply of p.
func (p *progress) start(plan *apply.Plan) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.started = time.Now()
	for _, a := range plan.Actions {
		if a.Kind != apply.NoChange && a.Skipped == "" && a.Error == "" {
			p.total++
		}
	}
}

// event is the session's OnEvent callback. It is safe for concurrent use.
func (p *progress) event(ev apply.Event) {
	if ev.Kind == apply.EventNotice {
		p.notice(ev.Message)
		return
	}
	if ev.Kind != apply.EventFinished || ev.Result == nil {
		return
	}

	res := *ev.Result
	if res.Status == apply.StatusUnchanged || res.Status == apply.StatusSkipped {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	line := apply.DescribeResult(res)
	if !p.terminal {
		fmt.Fprintln(p.e.stderr, line)
		return
	}

	// On a terminal, an apply of several actions shows a bar after barDelay.
	if p.bar == nil && time.Since(p.started) >= barDelay && p.total > 1 {
		p.bar = progressbar.NewOptions(p.total,
			progressbar.OptionSetWriter(p.e.stderr),
			progressbar.OptionSetDescription("applying"),
			progressbar.OptionShowCount(),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetElapsedTime(true),
		)
		_ = p.bar.Set(p.done - 1)
	}

	if res.Status == apply.StatusFailed || p.bar == nil {
		if p.bar != nil {
			_ = p.bar.Clear()
		}
		fmt.Fprintln(p.e.stderr, line)
	}
	if p.bar != nil {
		_ = p.bar.Add(1)
	}
}

// notice prints a message of the session, such as a wait, as a line. It
// may come before start, while the session plans.
func (p *progress) notice(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Clear()
	}
	fmt.Fprintf(p.e.stderr, "apply: %s\n", msg)
}

// finish removes the progress bar and, off a terminal, prints how many
// actions ran and how long they took.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
	if !p.terminal && p.total > 0 {
		fmt.Fprintf(p.e.stderr, "%d of %s finished in %s\n", p.done, countNoun(p.total, "action"), time.Since(p.started).Round(time.Millisecond))
	}
}

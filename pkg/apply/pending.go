package apply

import (
	"context"
	"fmt"
	"time"

	"github.com/apply-cli/apply/pkg/spec"
)

// refreshSettled reads the remote state like refresh. When a pending entry
// younger than Config.PendingGrace has no remote connection yet, the create
// of the run that recorded it may still be in flight at the service,
// because a killed process does not stop the requests it sent. In that case
// refreshSettled waits until the grace period of every such entry has
// passed, telling the user through Config.OnEvent, and reads the remote
// state again.
func (s *Session) refreshSettled(ctx context.Context, manifests []*spec.Manifest) (*remoteState, error) {
	rs, err := s.refresh(ctx, manifests)
	if err != nil {
		return nil, err
	}
	wait, missing := s.pendingWait(rs, time.Now())
	if wait <= 0 {
		return rs, nil
	}

	msg := fmt.Sprintf("waiting %s for the creates of an earlier run to land (%s not listed yet)",
		formatWait(wait), countNoun(missing, "pending connection"))
	s.log.Info(msg, "wait", wait, "pending", missing)
	s.notify(msg)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for the creates of an earlier run: %w", ctx.Err())
	case <-timer.C:
	}
	return s.refresh(ctx, manifests)
}

// pendingWait returns how long to wait, from now, for the pending entries
// that no remote connection matches, and how many such entries are young
// enough to wait for. The wait is capped at the grace period, in case the
// recorded time is in the future because of another machine's clock.
func (s *Session) pendingWait(rs *remoteState, now time.Time) (time.Duration, int) {
	grace := s.cfg.PendingGrace
	claimed := make(map[string]bool)
	for _, e := range s.lock.Entries {
		claimed[e.ID] = true
		claimed[e.Replaces] = true
	}
	delete(claimed, "")

	var wait time.Duration
	missing := 0
	for _, e := range s.lock.Entries {
		if !e.Pending || e.PendingSince.IsZero() {
			continue
		}
		if len(rs.matches(e.Name, e.ConnectionSpec.ID, claimed)) > 0 {
			continue
		}
		left := min(e.PendingSince.Add(grace).Sub(now), grace)
		if left > 0 {
			wait = max(wait, left)
			missing++
		}
	}
	return wait, missing
}

// formatWait returns d rounded for a message: whole seconds, rounded up,
// from one second on, and milliseconds below.
func formatWait(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return (d + time.Second - 1).Truncate(time.Second).String()
}

// notify passes a message for the user to Config.OnEvent.
func (s *Session) notify(msg string) {
	if s.cfg.OnEvent != nil {
		s.cfg.OnEvent(Event{Kind: EventNotice, Index: -1, Message: msg})
	}
}

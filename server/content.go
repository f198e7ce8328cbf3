package main

import (
	"context"
	"log/slog"
	"time"

	sportello "github.com/sportello/sportello"
)

// contentScheduleEvery is how often each instance looks for content due to go online or
// offline: a scheduled publication is visible within this much of its time (and, through
// anonymous caches, within their max-age after that).
const contentScheduleEvery = 2 * time.Second

// runContentSchedule carries out scheduled publications until ctx ends. Every instance runs
// it; the scheduler itself makes sure that each item is published once (see RunSchedule), and
// an instance that was down catches up at its first run, since everything due and not yet done
// is still due.
func runContentSchedule(ctx context.Context, s sportello.ContentScheduler, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		done, err := s.RunSchedule(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			slog.ErrorContext(ctx, "content schedule", "error", err)
		case err == nil:
			for _, p := range done {
				slog.InfoContext(ctx, "content schedule", "id", p.ID, "type", p.Type, "slug", p.Slug, "live", p.Live)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

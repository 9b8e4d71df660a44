package main

import (
	"time"
)

// pacer releases units (flows or packets) at a fixed rate on an absolute
// schedule: unit k is due at start + k/rate, so rounding and sleep
// overshoot never accumulate. Wait sleeps (nanosleep, about 60 µs late on
// Linux, unlike time.Sleep's millisecond timer) while the next batch is
// far off and spins on the clock for the last stretch.
//
// A sender that falls behind (descheduled, or simply too slow) catches up
// by sending back to back, but never by more than maxBurst worth of
// schedule: older debt is forgiven and counted in slipped, so a hiccup
// does not turn into an unbounded burst.
type pacer struct {
	rate     float64       // units per second; 0 = no pacing
	maxBurst time.Duration // largest catch-up; older debt is forgiven
	spin     time.Duration // spin (rather than sleep) when the next batch is this close

	now   func() time.Time
	sleep func(time.Duration)

	start time.Time
	sent  uint64 // units released so far
	shift time.Duration

	maxLag  time.Duration // worst lateness of a batch
	slipped time.Duration // schedule forgiven after falling behind by more than maxBurst
	sleeps  int
}

func newPacer(rate float64) *pacer {
	return &pacer{
		rate:     rate,
		maxBurst: 10 * time.Millisecond,
		spin:     150 * time.Microsecond,
		now:      time.Now,
		sleep:    nanosleep,
	}
}

// begin starts the schedule at t.
func (p *pacer) begin(t time.Time) { p.start = t }

// due is the time the next unit is scheduled.
func (p *pacer) due() time.Time {
	return p.start.Add(p.shift + time.Duration(float64(p.sent)/p.rate*1e9))
}

// wait blocks until the next unit is due and then accounts n units
// (a batch) as released.
func (p *pacer) wait(n uint64) {
	if p.rate <= 0 {
		p.sent += n
		return
	}
	due := p.due()
	for {
		now := p.now()
		d := due.Sub(now)
		if d <= 0 {
			lag := -d
			if lag > p.maxBurst {
				// Forgive the debt beyond maxBurst.
				forgive := lag - p.maxBurst
				p.shift += forgive
				p.slipped += forgive
				lag = p.maxBurst
			}
			p.maxLag = max(p.maxLag, lag)
			break
		}
		if d > p.spin {
			p.sleeps++
			p.sleep(d - p.spin*2/3)
		}
		// else spin: the clock read is the loop body.
	}
	p.sent += n
}

// end is the time the schedule of everything released so far ends: the
// moment the next unit would be due. Elapsed time measured to end (or to
// the real last send when later) gives the achieved rate without the
// bias of stopping the clock right after the last batch left.
func (p *pacer) end() time.Time {
	if p.rate <= 0 {
		return p.start
	}
	return p.due()
}

// finish waits until the schedule of everything released so far ends.
func (p *pacer) finish() {
	if p.rate <= 0 {
		return
	}
	e := p.end()
	for {
		d := e.Sub(p.now())
		if d <= 0 {
			return
		}
		if d > p.spin {
			p.sleep(d - p.spin*2/3)
		}
	}
}

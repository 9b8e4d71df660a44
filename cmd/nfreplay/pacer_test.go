package main

import (
	"testing"
	"time"
)

// fakeClock is a clock whose reads advance it by tick (a spinning loop
// makes progress) and whose sleeps advance it by the sleep plus overshoot.
type fakeClock struct {
	t         time.Time
	tick      time.Duration
	overshoot time.Duration
	sleeps    int
	slept     time.Duration
}

func (c *fakeClock) now() time.Time {
	c.t = c.t.Add(c.tick)
	return c.t
}

func (c *fakeClock) sleep(d time.Duration) {
	c.sleeps++
	c.slept += d
	c.t = c.t.Add(d + c.overshoot)
}

func fakePacer(rate float64, c *fakeClock) *pacer {
	p := newPacer(rate)
	p.now, p.sleep = c.now, c.sleep
	p.begin(c.t)
	return p
}

func TestPacerSchedule(t *testing.T) {
	c := &fakeClock{t: time.Unix(1000, 0), tick: 50 * time.Nanosecond, overshoot: 60 * time.Microsecond}
	start := c.t
	const rate = 1e6 // units/s
	p := fakePacer(rate, c)
	const batch = 800 // 800 µs of schedule per batch
	for k := range 1000 {
		p.wait(batch)
		due := start.Add(time.Duration(float64(k*batch) / rate * 1e9))
		late := c.t.Sub(due)
		// Released on time: never early, late by no more than a few clock
		// reads (the spin covers the sleep overshoot).
		if late < 0 || late > time.Microsecond {
			t.Fatalf("batch %d released %v after its due time", k, late)
		}
	}
	if p.sleeps == 0 || p.sleeps > 1000 {
		t.Errorf("sleeps = %d, want one per batch at most", p.sleeps)
	}
	p.finish()
	if got, want := c.t.Sub(start), 800*time.Millisecond; got < want || got > want+time.Microsecond {
		t.Errorf("finish at %v, want %v", got, want)
	}
	if p.slipped != 0 {
		t.Errorf("slipped %v on an idle clock", p.slipped)
	}
}

func TestPacerSpinsShortWaits(t *testing.T) {
	// Batches due every 100 µs: closer than the spin threshold, so the
	// pacer spins instead of sleeping past the due time.
	c := &fakeClock{t: time.Unix(0, 0), tick: 100 * time.Nanosecond, overshoot: time.Millisecond}
	p := fakePacer(1e6, c)
	for range 100 {
		p.wait(100)
	}
	if p.sleeps != 0 {
		t.Errorf("slept %d times for 100 µs gaps; want spinning", p.sleeps)
	}
	if p.maxLag > time.Microsecond {
		t.Errorf("max lag %v", p.maxLag)
	}
}

func TestPacerUnpaced(t *testing.T) {
	c := &fakeClock{t: time.Unix(0, 0), tick: time.Nanosecond}
	p := fakePacer(0, c)
	for range 1000 {
		p.wait(25)
	}
	p.finish()
	if c.sleeps != 0 || c.t.Sub(time.Unix(0, 0)) != 0 {
		t.Errorf("unpaced pacer waited: sleeps %d, clock moved %v", c.sleeps, c.t.Sub(time.Unix(0, 0)))
	}
	if p.sent != 25000 {
		t.Errorf("sent = %d", p.sent)
	}
}

func TestPacerBoundsCatchUp(t *testing.T) {
	c := &fakeClock{t: time.Unix(0, 0), tick: 10 * time.Nanosecond}
	p := fakePacer(1000, c) // 1 unit per ms
	p.wait(1)
	// The sender is descheduled for a second.
	c.t = c.t.Add(time.Second)
	burst := 0
	start := c.t
	for c.t.Sub(start) < time.Microsecond {
		p.wait(1)
		burst++
	}
	// Catch-up is limited to maxBurst (10 ms = 10 units), not 1000 units.
	if want := int(p.maxBurst / time.Millisecond); burst < want || burst > want+2 {
		t.Errorf("caught up %d units back to back, want about %d", burst, want)
	}
	if p.slipped < 980*time.Millisecond || p.slipped > time.Second {
		t.Errorf("slipped %v, want about 990ms", p.slipped)
	}
	if p.maxLag > p.maxBurst {
		t.Errorf("max lag %v exceeds the burst bound %v", p.maxLag, p.maxBurst)
	}
}

func TestPacerRealClock(t *testing.T) {
	// 50 ms at 200k units/s in batches of 100: never faster than asked;
	// slower only when this (possibly busy) machine deschedules us.
	p := newPacer(200e3)
	start := time.Now()
	p.begin(start)
	for range 100 {
		p.wait(100)
	}
	p.finish()
	el := time.Since(start)
	if el < 50*time.Millisecond {
		t.Fatalf("sent 10000 units at 200k/s in %v: faster than the rate", el)
	}
	if el > 2*time.Second {
		t.Errorf("took %v for 50 ms of schedule", el)
	}
	t.Logf("elapsed %v (want 50ms), max lag %v, sleeps %d", el, p.maxLag, p.sleeps)
}

package queue

import (
	"math"
	"math/rand/v2"
	"time"
)

// Default retry schedule. RFC 5321 §4.5.4.1 asks for retries no sooner than
// about 30 minutes apart in general and a give-up time of at least 4-5
// days; a first retry after 15 minutes, growing from there, is the usual
// compromise. RFC 3461 and common practice send a "delayed" notice after
// some 4 hours.
const (
	DefaultFirstRetry  = 15 * time.Minute
	DefaultBackoff     = 2.0
	DefaultMaxInterval = 2 * time.Hour
	DefaultJitter      = 0.1
	DefaultDelayNotice = 4 * time.Hour
	DefaultGiveUp      = 5 * 24 * time.Hour
)

// Policy is the retry schedule of a Queue. The zero Policy means the
// defaults; a field left 0 takes its default.
type Policy struct {
	// FirstRetry is the wait after the first failed attempt.
	FirstRetry time.Duration
	// Backoff multiplies the wait after each further failure (at least 1).
	Backoff float64
	// MaxInterval caps the wait between attempts.
	MaxInterval time.Duration
	// Jitter spreads each wait by up to this fraction either way (0 to 1;
	// negative means none), so that messages queued together do not retry
	// together.
	Jitter float64
	// DelayNotice is how long after arrival a still-pending recipient
	// earns a "delayed" DSN (once); negative means never.
	DelayNotice time.Duration
	// GiveUp is how long after arrival the queue stops trying and
	// returns the message as failed (RFC 5321 §4.5.4.1).
	GiveUp time.Duration
	// Rand returns a number in [0, 1) for the jitter; nil means
	// math/rand/v2.Float64.
	Rand func() float64
}

func (p Policy) withDefaults() Policy {
	if p.FirstRetry <= 0 {
		p.FirstRetry = DefaultFirstRetry
	}
	if p.Backoff < 1 {
		p.Backoff = DefaultBackoff
	}
	if p.MaxInterval <= 0 {
		p.MaxInterval = DefaultMaxInterval
	}
	// A negative Jitter stays negative (none), so that withDefaults can
	// be applied twice.
	if p.Jitter == 0 {
		p.Jitter = DefaultJitter
	}
	p.Jitter = min(p.Jitter, 1)
	if p.DelayNotice == 0 {
		p.DelayNotice = DefaultDelayNotice
	}
	if p.GiveUp <= 0 {
		p.GiveUp = DefaultGiveUp
	}
	if p.Rand == nil {
		p.Rand = rand.Float64
	}
	return p
}

// Interval returns the wait after the given number of failed attempts
// (1 for the first), with backoff, cap and jitter applied.
func (p Policy) Interval(failures int) time.Duration {
	return p.withDefaults().interval(failures)
}

func (p Policy) interval(failures int) time.Duration {
	d := float64(p.FirstRetry) * math.Pow(p.Backoff, float64(max(failures-1, 0)))
	d = min(d, float64(p.MaxInterval))
	if p.Jitter > 0 {
		d *= 1 + p.Jitter*(2*p.Rand()-1)
	}
	return max(time.Duration(d), time.Second)
}

// Next returns when to try a message again after its failures'th failed
// attempt at now, and whether to give up instead. The last attempt is made
// at the give-up time, not skipped because a wait would pass it.
func (p Policy) Next(arrival, now time.Time, failures int) (next time.Time, giveUp bool) {
	p = p.withDefaults()
	deadline := arrival.Add(p.GiveUp)
	if !now.Before(deadline) {
		return time.Time{}, true
	}
	next = now.Add(p.interval(failures))
	if next.After(deadline) {
		next = deadline
	}
	return next, false
}

// DelayDue reports whether a delayed DSN is due at now for a message that
// arrived at arrival.
func (p Policy) DelayDue(arrival, now time.Time) bool {
	p = p.withDefaults()
	return p.DelayNotice > 0 && now.Sub(arrival) >= p.DelayNotice
}

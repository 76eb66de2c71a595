package queue

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPolicySchedule(t *testing.T) {
	p := Policy{Jitter: -1}
	assert.Equal(t, 15*time.Minute, p.Interval(1))
	assert.Equal(t, 30*time.Minute, p.Interval(2))
	assert.Equal(t, time.Hour, p.Interval(3))
	assert.Equal(t, 2*time.Hour, p.Interval(4))
	assert.Equal(t, 2*time.Hour, p.Interval(40), "capped")

	// Five days of failures: the attempts, the delay notice at 4 h, and
	// the give-up at exactly 5 days.
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	now, tries, delayAt := t0, 0, time.Time{}
	for {
		tries++
		if delayAt.IsZero() && p.DelayDue(t0, now) {
			delayAt = now
		}
		next, giveUp := p.Next(t0, now, tries)
		if giveUp {
			break
		}
		require.True(t, next.After(now))
		now = next
	}
	assert.Equal(t, t0.Add(5*24*time.Hour), now)
	assert.Equal(t, t0.Add(15*time.Minute+30*time.Minute+time.Hour+2*time.Hour+2*time.Hour), delayAt,
		"first attempt at or after 4 h")
	assert.Equal(t, 64, tries)
}

func TestPolicyJitterAndConfig(t *testing.T) {
	lo := Policy{Rand: func() float64 { return 0 }}
	hi := Policy{Rand: func() float64 { return 0.999999 }}
	assert.Equal(t, 13*time.Minute+30*time.Second, lo.Interval(1))
	assert.InDelta(t, float64(16*time.Minute+30*time.Second), float64(hi.Interval(1)), float64(time.Second))

	p := Policy{FirstRetry: time.Minute, Backoff: 3, MaxInterval: 10 * time.Minute, Jitter: -1,
		GiveUp: time.Hour, DelayNotice: -1}
	assert.Equal(t, 3*time.Minute, p.Interval(2))
	assert.Equal(t, 10*time.Minute, p.Interval(5))
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	next, giveUp := p.Next(t0, t0.Add(55*time.Minute), 9)
	assert.False(t, giveUp)
	assert.Equal(t, t0.Add(time.Hour), next, "last attempt at the deadline")
	_, giveUp = p.Next(t0, t0.Add(time.Hour), 10)
	assert.True(t, giveUp)
	assert.False(t, p.DelayDue(t0, t0.Add(100*time.Hour)))
}

func TestManualClock(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewManualClock(t0)
	added := c.TimerAdded()
	tm := c.NewTimer(time.Hour)
	<-added
	t2 := c.NewTimer(2 * time.Hour)
	assert.Equal(t, 2, c.Timers())
	c.Advance(59 * time.Minute)
	select {
	case <-tm.C():
		t.Fatal("fired early")
	default:
	}
	c.Advance(time.Minute)
	assert.Equal(t, t0.Add(time.Hour), <-tm.C())
	assert.True(t, t2.Stop())
	assert.False(t, t2.Stop())
	assert.Equal(t, 0, c.Timers())
	now := <-c.NewTimer(0).C()
	assert.Equal(t, t0.Add(time.Hour), now)
}

package netutil

import (
	"context"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deadlineConn records the deadlines set on it.
type deadlineConn struct {
	net.Conn
	mu  sync.Mutex
	set []time.Time
}

func (c *deadlineConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.set = append(c.set, t)
	return nil
}

func (c *deadlineConn) last() (time.Time, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.set) == 0 {
		return time.Time{}, 0
	}
	return c.set[len(c.set)-1], len(c.set)
}

func TestDeadlineContextDeadline(t *testing.T) {
	var d Deadline
	c := &deadlineConn{}
	when := time.Now().Add(time.Hour)
	ctx, cancel := context.WithDeadline(context.Background(), when)
	defer cancel()
	stop := d.Watch(ctx, c, time.Minute)
	got, n := c.last()
	assert.True(t, got.Equal(when), "the context's deadline wins over the timeout")
	d.Refresh()
	_, n2 := c.last()
	assert.Equal(t, n, n2, "no per-I/O deadline under a context deadline")
	stop()
}

func TestDeadlinePerIO(t *testing.T) {
	var d Deadline
	c := &deadlineConn{}
	stop := d.Watch(context.Background(), c, time.Hour)
	first, n := c.last()
	require.Equal(t, 1, n)
	assert.True(t, first.After(time.Now().Add(59*time.Minute)))
	d.Refresh()
	_, n = c.last()
	assert.Equal(t, 2, n)
	stop()

	// Without a timeout, the deadline left by the last call is cleared,
	// once.
	stop = d.Watch(context.Background(), c, 0)
	got, n := c.last()
	assert.True(t, got.IsZero())
	assert.Equal(t, 3, n)
	d.Refresh()
	stop()
	stop = d.Watch(context.Background(), c, -1)
	_, n = c.last()
	assert.Equal(t, 3, n, "nothing to clear")
	stop()
}

// TestDeadlineCancel: cancelling the context interrupts a blocked read, and
// Refresh cannot undo it.
func TestDeadlineCancel(t *testing.T) {
	var d Deadline
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	ctx, cancel := context.WithCancel(context.Background())
	stop := d.Watch(ctx, client, time.Hour)
	read := make(chan error, 1)
	go func() {
		_, err := client.Read(make([]byte, 1))
		read <- err
	}()
	cancel()
	assert.ErrorIs(t, <-read, os.ErrDeadlineExceeded)
	d.Refresh()
	_, err := client.Read(make([]byte, 1))
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded, "the cancellation wins")
	stop()

	// The next call starts afresh, also without any timeout: the deadline
	// in the past is cleared.
	for _, timeout := range []time.Duration{time.Hour, 0} {
		stop = d.Watch(context.Background(), client, timeout)
		go server.Write([]byte("x"))
		_, err = client.Read(make([]byte, 1))
		assert.NoError(t, err)
		stop()
	}
}

// TestDeadlineCancelWithoutTimeout: a call cancelled without any timeout
// leaves a deadline in the past, which the next call clears.
func TestDeadlineCancelWithoutTimeout(t *testing.T) {
	var d Deadline
	c := &deadlineConn{}
	ctx, cancel := context.WithCancel(context.Background())
	stop := d.Watch(ctx, c, 0)
	got, n := c.last()
	assert.True(t, got.IsZero(), "a deadline the connection came with is cleared")
	d.Watch(ctx, c, 0)()
	_, n2 := c.last()
	assert.Equal(t, n, n2, "but only once")
	cancel()
	stop()
	got, _ = c.last()
	assert.True(t, got.Before(time.Now()))
	d.Watch(context.Background(), c, 0)()
	got, _ = c.last()
	assert.True(t, got.IsZero())
}

// TestDeadlineStopAfterCancel: stop waits for a cancellation under way, so
// that its deadline in the past cannot land after the next call's.
func TestDeadlineStopAfterCancel(t *testing.T) {
	var d Deadline
	c := &deadlineConn{}
	for range 100 {
		ctx, cancel := context.WithCancel(context.Background())
		stop := d.Watch(ctx, c, time.Hour)
		go cancel()
		stop()
		d.Watch(context.Background(), c, time.Hour)()
		got, _ := c.last()
		assert.True(t, got.After(time.Now()), "the new call's deadline is the last one set")
	}
}

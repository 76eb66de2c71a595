package netutil

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestTemporary(t *testing.T) {
	emfile := &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept", syscall.EMFILE)}
	enfile := &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept", syscall.ENFILE)}
	timeout := &net.OpError{Op: "accept", Net: "tcp", Err: os.ErrDeadlineExceeded}
	assert.True(t, Temporary(emfile))
	assert.True(t, Temporary(enfile))
	assert.True(t, Temporary(timeout))
	assert.True(t, Temporary(fmt.Errorf("wrapped: %w", emfile)))
	assert.False(t, Temporary(net.ErrClosed))
	assert.False(t, Temporary(errors.New("boom")))
}

func TestAcceptBackoff(t *testing.T) {
	var slept []time.Duration
	b := AcceptBackoff{sleep: func(d time.Duration) { slept = append(slept, d) }}
	emfile := os.NewSyscallError("accept", syscall.EMFILE)
	for range 10 {
		_, ok := b.Retry(emfile)
		assert.True(t, ok)
	}
	assert.Equal(t, []time.Duration{
		5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond,
		80 * time.Millisecond, 160 * time.Millisecond, 320 * time.Millisecond, 640 * time.Millisecond,
		time.Second, time.Second,
	}, slept)

	b.Reset()
	d, ok := b.Retry(emfile)
	assert.True(t, ok)
	assert.Equal(t, 5*time.Millisecond, d)

	slept = nil
	_, ok = b.Retry(net.ErrClosed)
	assert.False(t, ok)
	assert.Empty(t, slept, "a permanent error must not sleep")
}

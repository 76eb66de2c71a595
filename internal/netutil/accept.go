// Package netutil holds what the protocol servers and clients share about
// connections: the accept loop and its backoff, the tracking of listeners and
// connections for Shutdown and Close (Tracker), the gentle close after a last
// reply (CloseLinger), a call's context applied to a connection (Deadline),
// and the configuration of implicit TLS.
package netutil

import (
	"errors"
	"net"
	"time"
)

// AcceptBackoff decides whether a server's accept loop goes on after an
// error from Accept, and how long it waits first. Running out of file
// descriptors (EMFILE, ENFILE) and timeouts are passing conditions: a server
// that stopped serving on them could be shut down by a flood of connections.
// The wait doubles from 5 ms up to 1 s, as net/http's does, and starts again
// after a successful Accept (call Reset).
type AcceptBackoff struct {
	delay time.Duration
	sleep func(time.Duration) // time.Sleep when nil
}

// Retry reports whether err is temporary and, if it is, sleeps before the
// next Accept and returns the time it slept.
func (b *AcceptBackoff) Retry(err error) (time.Duration, bool) {
	if !Temporary(err) {
		return 0, false
	}
	b.delay = min(max(2*b.delay, 5*time.Millisecond), time.Second)
	sleep := b.sleep
	if sleep == nil {
		sleep = time.Sleep
	}
	sleep(b.delay)
	return b.delay, true
}

// Reset starts the backoff over; call it after each successful Accept.
func (b *AcceptBackoff) Reset() { b.delay = 0 }

// Temporary reports whether an Accept error is one to retry: a timeout, or an
// error that says it is temporary (syscall.EMFILE and ENFILE do).
func Temporary(err error) bool {
	var te interface{ Temporary() bool }
	var ne net.Error
	return errors.As(err, &te) && te.Temporary() || errors.As(err, &ne) && ne.Timeout()
}

package netutil

import (
	"context"
	"net"
	"sync"
	"time"
)

// Deadline applies the context of each call of a client to its connection:
// the context's deadline, or else a timeout renewed before each read and
// write (Refresh), and its cancellation, which sets a deadline in the past to
// interrupt blocked I/O. The zero value is ready to use. Watch and Refresh
// belong to the client's calls, which do not overlap; only a cancellation
// runs concurrently with them, and it wins: once a call is cancelled,
// Refresh leaves the deadline in the past.
type Deadline struct {
	mu        sync.Mutex // orders Refresh against a cancellation
	conn      net.Conn
	timeout   time.Duration // per read and write; 0 when ctx has a deadline
	cancelled bool
	cleared   bool // no deadline is set on conn (at first, one may be)
}

// Watch applies ctx to conn until the returned function is called. When ctx
// has no deadline and timeout is positive, each read and write of the call
// gets timeout, renewed by Refresh. The connection may be replaced during the
// call by a *tls.Conn over it: deadlines set on conn reach it.
func (d *Deadline) Watch(ctx context.Context, conn net.Conn, timeout time.Duration) (stop func()) {
	d.mu.Lock()
	d.conn, d.cancelled, d.timeout = conn, false, 0
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
		d.cleared = false
	} else if timeout > 0 {
		d.timeout = timeout
		conn.SetDeadline(time.Now().Add(timeout))
		d.cleared = false
	} else if !d.cleared {
		conn.SetDeadline(time.Time{})
		d.cleared = true
	}
	d.mu.Unlock()
	if ctx.Done() == nil {
		return func() {}
	}
	fired := make(chan struct{})
	after := context.AfterFunc(ctx, func() {
		d.mu.Lock()
		d.cancelled, d.cleared = true, false
		conn.SetDeadline(time.Unix(1, 0))
		d.mu.Unlock()
		close(fired)
	})
	return func() {
		if !after() {
			// The cancellation has run or is running: let it finish, so
			// that the next call's deadline replaces its own.
			<-fired
		}
	}
}

// Refresh moves the per-I/O deadline timeout ahead; call it before each read
// and write. It does nothing when the call's context has a deadline or was
// cancelled.
func (d *Deadline) Refresh() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timeout > 0 && !d.cancelled {
		d.conn.SetDeadline(time.Now().Add(d.timeout))
	}
}

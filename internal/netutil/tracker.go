package netutil

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by Tracker's Serve and Add after Shutdown or Close.
var ErrClosed = errors.New("server closed")

// ErrLimit is returned by Tracker's Add when the limit of connections is
// reached.
var ErrLimit = errors.New("too many connections")

// Conn is a served connection as a Tracker sees it.
type Conn interface {
	// CloseIdle ends the connection if it is waiting for the client's next
	// request, and lets a request in progress finish. Shutdown calls it
	// repeatedly until the connection is gone, so a connection may also
	// check Closing itself before each wait.
	CloseIdle()
	// Close ends the connection at once.
	Close() error
}

// MaxRefusing bounds the refusals a Tracker answers at once; further
// connections it refuses are closed without a reply.
const MaxRefusing = 64

// Tracker keeps a server's listeners and active connections, for an accept
// loop, a graceful Shutdown and an abrupt Close in the manner of net/http's
// Server. The zero value is ready to use; a Tracker must not be copied after
// first use.
type Tracker struct {
	mu        sync.Mutex
	listeners map[*onceCloseListener]struct{}
	conns     map[Conn]struct{}
	refused   map[net.Conn]struct{} // being answered by Refuse
	gone      chan struct{}         // closed when conns empties after Shutdown
	closing   atomic.Bool
}

// Closing reports whether Shutdown or Close has been called.
func (t *Tracker) Closing() bool { return t.closing.Load() }

// Serve accepts connections on l and passes each to handle, which must not
// block: it starts the connection's goroutine, or refuses it. Temporary
// Accept errors are retried after AcceptBackoff's wait, and reported to
// retry when it is not nil. Serve closes l when it returns, and returns
// ErrClosed after Shutdown or Close, or Accept's error.
func (t *Tracker) Serve(l net.Listener, handle func(net.Conn), retry func(err error, delay time.Duration)) error {
	ol := &onceCloseListener{Listener: l}
	defer ol.Close()
	if !t.addListener(ol) {
		return ErrClosed
	}
	defer t.removeListener(ol)
	var backoff AcceptBackoff
	for {
		nc, err := ol.Accept()
		if err != nil {
			if t.Closing() {
				return ErrClosed
			}
			if delay, ok := backoff.Retry(err); ok {
				if retry != nil {
					retry(err, delay)
				}
				continue
			}
			return err
		}
		backoff.Reset()
		handle(nc)
	}
}

func (t *Tracker) addListener(l *onceCloseListener) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.Closing() {
		return false
	}
	if t.listeners == nil {
		t.listeners = make(map[*onceCloseListener]struct{})
	}
	t.listeners[l] = struct{}{}
	return true
}

func (t *Tracker) removeListener(l *onceCloseListener) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.listeners, l)
}

// Add records c as active until Remove. It returns ErrClosed after Shutdown
// or Close, and ErrLimit when limit is positive and that many connections
// are active already.
func (t *Tracker) Add(c Conn, limit int) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.Closing() {
		return ErrClosed
	}
	if limit > 0 && len(t.conns) >= limit {
		return ErrLimit
	}
	if t.conns == nil {
		t.conns = make(map[Conn]struct{})
	}
	t.conns[c] = struct{}{}
	return nil
}

// Remove forgets c, once it has ended.
func (t *Tracker) Remove(c Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.conns, c)
	if len(t.conns) == 0 && t.gone != nil {
		close(t.gone)
		t.gone = nil
	}
}

// Len returns the number of active connections.
func (t *Tracker) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns)
}

// closeListeners marks the Tracker closing, closes its listeners and
// returns the active connections, with a channel closed when they are all
// gone (nil when there are none).
func (t *Tracker) closeListeners() (conns []Conn, gone chan struct{}, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closing.Store(true)
	for l := range t.listeners {
		if e := l.Close(); e != nil && err == nil {
			err = e
		}
	}
	if len(t.conns) > 0 {
		if t.gone == nil {
			t.gone = make(chan struct{})
		}
		gone = t.gone
	}
	for c := range t.conns {
		conns = append(conns, c)
	}
	return conns, gone, err
}

// Shutdown closes the listeners, then asks each connection to end as soon as
// it is idle (CloseIdle), again and again at growing intervals, as net/http
// does, until all of them have ended or ctx is done. It returns nil or
// ctx's error.
func (t *Tracker) Shutdown(ctx context.Context) error {
	conns, gone, _ := t.closeListeners()
	if gone == nil {
		return nil
	}
	const maxPoll = 500 * time.Millisecond
	poll := time.Millisecond
	timer := time.NewTimer(poll)
	defer timer.Stop()
	for {
		for _, c := range conns {
			c.CloseIdle()
		}
		select {
		case <-gone:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
		poll = min(2*poll, maxPoll)
		timer.Reset(poll)
		t.mu.Lock()
		conns = conns[:0]
		for c := range t.conns {
			conns = append(conns, c)
		}
		t.mu.Unlock()
	}
}

// Close closes the listeners, every active connection and every refusal
// at once. It returns the first error from closing a listener.
func (t *Tracker) Close() error {
	conns, _, err := t.closeListeners()
	for _, c := range conns {
		c.Close()
	}
	t.mu.Lock()
	for nc := range t.refused {
		nc.Close()
	}
	t.mu.Unlock()
	return err
}

// Refuse answers nc, a connection the server will not serve, with reply and
// closes it with CloseLinger, in a goroutine of its own so that the accept
// loop goes on. It reports whether it answered: at most MaxRefusing
// refusals run at once, so that a flood of connections cannot pile up
// goroutines, and past that nc is closed at once, as is a TLS connection
// (answering would need a handshake) and any connection after Close.
func (t *Tracker) Refuse(nc net.Conn, reply []byte) bool {
	if _, isTLS := nc.(*tls.Conn); isTLS || !t.addRefused(nc) {
		nc.Close()
		return false
	}
	go func() {
		defer t.removeRefused(nc)
		// A short write to a new socket does not block unless the client
		// has stopped reading; then it may as well fail.
		nc.SetWriteDeadline(time.Now().Add(time.Second))
		if _, err := nc.Write(reply); err != nil {
			nc.Close()
			return
		}
		CloseLinger(nc)
	}()
	return true
}

func (t *Tracker) addRefused(nc net.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.Closing() || len(t.refused) >= MaxRefusing {
		return false
	}
	if t.refused == nil {
		t.refused = make(map[net.Conn]struct{})
	}
	t.refused[nc] = struct{}{}
	return true
}

func (t *Tracker) removeRefused(nc net.Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.refused, nc)
}

// onceCloseListener lets Serve and Shutdown both close a listener.
type onceCloseListener struct {
	net.Listener
	once sync.Once
	err  error
}

func (l *onceCloseListener) Close() error {
	l.once.Do(func() { l.err = l.Listener.Close() })
	return l.err
}

package imapclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/imap/imapwire"
)

// kind is a bit set of the untagged responses a command collects. Two
// commands collecting the same kind are never in flight together, so that
// each untagged response has one owner.
type kind uint32

const (
	kindCapability kind = 1 << iota
	kindList            // LIST, LSUB
	kindStatus          // STATUS (also LIST-STATUS)
	kindSearch          // SEARCH, ESEARCH, SORT
	kindFetch           // FETCH (FETCH, STORE)
	kindExpunge         // EXPUNGE, VANISHED (EXPUNGE, UID EXPUNGE, MOVE)
	kindCode            // untagged OK/NO/BAD with a response code (SELECT, MOVE's COPYUID)
	kindSelect          // FLAGS, EXISTS, RECENT
	kindEnabled
	kindNamespace
	kindID
	kindQuota
	kindThread
)

// command is one command in flight.
type command struct {
	c    *Client
	name string
	tag  string

	kinds     kind
	exclusive bool // runs alone (state changes: SELECT, LOGIN, IDLE...)
	seqNums   bool // uses message sequence numbers
	noExpunge bool // the server may not expunge during it (FETCH, STORE, SEARCH)
	pause     bool // the reader stops after its completion (STARTTLS, COMPRESS)

	// onData receives the untagged responses routed to the command, on
	// the reading goroutine.
	onData func(resp any)
	// onSection receives the body sections of FETCH responses routed to
	// the command; nil reads them into memory.
	onSection func(f *imapwire.FetchData, it imap.FetchItem, r io.Reader, size int64)
	// onDone runs on the reading goroutine when the command completes,
	// before done is closed.
	onDone func()

	abandoned atomic.Bool
	started   chan struct{} // closed when sent (or failed)
	done      chan struct{}
	status    *imap.StatusResponse
	err       error // set before done is closed
	resume    chan struct{}
}

func (c *Client) newCommand(name string) *command {
	return &command{c: c, name: name, done: make(chan struct{}), started: make(chan struct{})}
}

// conflicts reports whether b may not be in flight while a is.
func conflicts(a, b *command) bool {
	if a.exclusive || b.exclusive || a.kinds&b.kinds != 0 {
		return true
	}
	// RFC 3501 §5.5: a command that uses sequence numbers is ambiguous
	// alongside one during which the server may send EXPUNGE.
	if (a.seqNums && !b.noExpunge) || (b.seqNums && !a.noExpunge) {
		return true
	}
	return false
}

// begin waits until cmd may be sent, then registers it as in flight with
// a tag. Commands start in the order they arrive.
func (c *Client) begin(ctx context.Context, cmd *command) error {
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return err
	}
	c.queue = append(c.queue, cmd)
	for {
		if c.err != nil {
			err := c.err
			c.dequeue(cmd)
			c.mu.Unlock()
			return err
		}
		if c.queue[0] == cmd && c.compatible(cmd) {
			c.queue = c.queue[1:]
			c.tagNum++
			cmd.tag = "A" + strconv.FormatUint(c.tagNum, 10)
			c.pending = append(c.pending, cmd)
			c.broadcast()
			c.mu.Unlock()
			return nil
		}
		ch := c.changed
		c.mu.Unlock()
		if c.testHookWait != nil {
			c.testHookWait(cmd.name)
		}
		select {
		case <-ch:
		case <-c.closed:
		case <-ctx.Done():
			c.mu.Lock()
			c.dequeue(cmd)
			c.mu.Unlock()
			return ctx.Err()
		}
		c.mu.Lock()
	}
}

func (c *Client) dequeue(cmd *command) {
	for i, q := range c.queue {
		if q == cmd {
			c.queue = append(c.queue[:i], c.queue[i+1:]...)
			c.broadcast()
			return
		}
	}
}

func (c *Client) compatible(cmd *command) bool {
	for _, p := range c.pending {
		if conflicts(p, cmd) {
			return false
		}
	}
	return true
}

// broadcast wakes the commands waiting to start; c.mu is held.
func (c *Client) broadcast() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// encoder returns an Encoder for one command; c.wmu is held.
func (c *Client) encoder(ctx context.Context, cmd *command) *imapwire.Encoder {
	c.mu.Lock()
	caps, utf8 := c.caps, c.utf8
	c.mu.Unlock()
	e := imapwire.NewEncoder(c.bw)
	e.UTF8 = utf8
	if caps != nil {
		e.LiteralPlus = caps.Has(imap.CapLiteralPlus)
		e.LiteralMinus = caps.Has(imap.CapLiteralMinus)
	}
	e.WaitContinuation = func() error {
		_, err := c.waitContinuation(ctx, cmd)
		return err
	}
	return e
}

// send registers cmd and writes it: the tag, the name, what args writes,
// CRLF. args may be nil.
func (c *Client) send(ctx context.Context, cmd *command, args func(e *imapwire.Encoder)) error {
	if err := c.begin(ctx, cmd); err != nil {
		return err
	}
	err := c.write(ctx, cmd, func(e *imapwire.Encoder) {
		e.Atom(cmd.tag)
		e.SP()
		e.Atom(cmd.name)
		if args != nil {
			args(e)
		}
		e.CRLF()
	})
	close(cmd.started)
	if err != nil {
		c.mu.Lock()
		sent := c.err != nil
		c.mu.Unlock()
		if !sent {
			// Nothing reached the server: the command never existed.
			c.remove(cmd)
		}
		return err
	}
	return nil
}

// remove takes a command that was never sent off the list in flight.
func (c *Client) remove(cmd *command) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, p := range c.pending {
		if p == cmd {
			c.pending = append(c.pending[:i], c.pending[i+1:]...)
			c.broadcast()
			return
		}
	}
}

// write writes what w writes and flushes it, under the write lock, with
// the call's deadline (or Timeout per write) on the connection. An
// invalid argument found before any byte of the command left fails the
// call only; anything else fails the connection.
func (c *Client) write(ctx context.Context, cmd *command, w func(e *imapwire.Encoder)) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	nc, cerr := c.conn, c.err
	c.mu.Unlock()
	if cerr != nil {
		return cerr
	}
	c.mu.Lock()
	c.wcancelled, c.wtimeout = false, 0
	if dl, ok := ctx.Deadline(); ok {
		nc.SetWriteDeadline(dl)
	} else if c.timeout > 0 {
		c.wtimeout = c.timeout // renewed by each write
	} else {
		nc.SetWriteDeadline(time.Time{})
	}
	c.mu.Unlock()
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		c.wcancelled = true
		nc.SetWriteDeadline(time.Unix(1, 0))
		c.mu.Unlock()
		close(fired)
	})
	// A continuation request can only answer what this command sends.
	select {
	case <-c.contCh:
	default:
	}
	start := c.written
	e := c.encoder(ctx, cmd)
	w(e)
	err := e.Flush()
	if !stop() {
		// The cancellation ran or is running: let it finish before the
		// next write sets its own deadline.
		<-fired
	}
	if err == nil {
		return nil
	}
	if errors.Is(err, imapwire.ErrInvalid) && c.written == start {
		c.bw.Reset(connWriter{c})
		return fmt.Errorf("imapclient: %s: %w", cmd.name, err)
	}
	if errors.Is(err, errRefused) {
		// The server refused a synchronising literal with a tagged
		// response: the command is over, and the connection in step.
		c.bw.Reset(connWriter{c})
		return nil
	}
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	c.fail(fmt.Errorf("imapclient: sending %s: %w", cmd.name, err))
	return err
}

// writeLine writes one line of continuation data (an AUTHENTICATE
// response, IDLE's DONE).
func (c *Client) writeLine(ctx context.Context, cmd *command, line string) error {
	return c.write(ctx, cmd, func(e *imapwire.Encoder) {
		e.Atom(line)
		e.CRLF()
	})
}

var errRefused = errors.New("imapclient: literal refused")

// waitContinuation waits for the server's continuation request to cmd.
// It returns errRefused when the command completed instead.
func (c *Client) waitContinuation(ctx context.Context, cmd *command) (*imapwire.Continuation, error) {
	cont, _, err := waitRecv(ctx, c, cmd.done, c.contCh)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			// The server waits for the rest of the command.
			c.fail(fmt.Errorf("imapclient: %s cancelled: %w", cmd.name, err))
		}
		return nil, err
	}
	if cont == nil {
		return nil, errRefused
	}
	return cont, nil
}

// waitRecv waits until done is closed or ch delivers a value (ch may be
// nil; a closed ch counts as done), bounded by the context's deadline or
// by Timeout of silence from the server, which fail the connection. A
// cancelled context returns its error and leaves the connection alone.
func waitRecv[T any](ctx context.Context, c *Client, done <-chan struct{}, ch <-chan T) (v T, got bool, err error) {
	var timer <-chan time.Time
	start := time.Now()
	var t *time.Timer
	if _, ok := ctx.Deadline(); !ok && c.timeout > 0 {
		t = time.NewTimer(c.timeout)
		defer t.Stop()
		timer = t.C
	}
	for {
		select {
		case <-done:
			return v, false, nil
		case v, ok := <-ch:
			return v, ok, nil
		case <-c.closed:
			select {
			case <-done:
				return v, false, nil
			case v, ok := <-ch:
				return v, ok, nil
			default:
			}
			return v, false, c.Err()
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				err := fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
				c.fail(err)
				return v, false, err
			}
			return v, false, ctx.Err()
		case now := <-timer:
			last := time.Unix(0, c.lastRead.Load())
			if last.Before(start) {
				last = start
			}
			if wait := last.Add(c.timeout).Sub(now); wait > 0 {
				t.Reset(wait)
				continue
			}
			err := fmt.Errorf("%w: nothing for %v", ErrTimeout, c.timeout)
			c.fail(err)
			return v, false, err
		}
	}
}

// wait waits for cmd's completion and returns its result: nil for OK,
// an *imap.Error for NO or BAD, the connection's error when it ended
// first. A cancelled context abandons the command.
func (c *Client) wait(ctx context.Context, cmd *command) error {
	if _, _, err := waitRecv[struct{}](ctx, c, cmd.done, nil); err != nil {
		select {
		case <-cmd.done:
			return cmd.err
		default:
		}
		cmd.abandoned.Store(true)
		return err
	}
	return cmd.err
}

// run sends a command and waits for its completion.
func (c *Client) run(ctx context.Context, cmd *command, args func(e *imapwire.Encoder)) error {
	if err := c.send(ctx, cmd, args); err != nil {
		return err
	}
	return c.wait(ctx, cmd)
}

// simple runs a command without arguments or data.
func (c *Client) simple(ctx context.Context, name string) error {
	return c.run(ctx, c.newCommand(name), nil)
}

package imapclient

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/mailwire/mailwire/imap"
)

// IdleCommand is an IDLE in progress (RFC 2177): while it lasts, the
// server reports mailbox changes as they happen, to the Handler. Other
// commands wait until it ends.
type IdleCommand struct {
	c       *Client
	cmd     *command
	once    sync.Once
	err     error
	stopped chan struct{}
	after   func() bool
}

// Idle starts IDLE and returns once the server has accepted it. IDLE ends
// when ctx is done or Close is called (the client then sends DONE), or
// when the connection ends. RFC 2177 §3 asks clients to end IDLE and start
// it again at least every 29 minutes, as servers may log out a client idle
// for 30.
func (c *Client) Idle(ctx context.Context) (*IdleCommand, error) {
	if has, err := c.has(ctx, imap.CapIdle); err != nil {
		return nil, err
	} else if !has {
		return nil, fmt.Errorf("%w: IDLE", ErrUnsupported)
	}
	cmd := c.newCommand("IDLE")
	cmd.exclusive = true
	if err := c.send(ctx, cmd, nil); err != nil {
		return nil, err
	}
	if _, err := c.waitContinuation(ctx, cmd); err != nil {
		if errors.Is(err, errRefused) {
			return nil, cmd.err // NO or BAD instead of "+"
		}
		return nil, err
	}
	ic := &IdleCommand{c: c, cmd: cmd, stopped: make(chan struct{})}
	ic.after = context.AfterFunc(ctx, func() { ic.stop() })
	return ic, nil
}

// stop sends DONE once and waits for the completion, bounded by Timeout.
func (ic *IdleCommand) stop() {
	ic.once.Do(func() {
		defer close(ic.stopped)
		ctx := context.Background()
		select {
		case <-ic.cmd.done:
			// The server ended it (or the connection ended).
			ic.err = ic.cmd.err
			return
		default:
		}
		if err := ic.c.writeLine(ctx, ic.cmd, "DONE"); err != nil {
			ic.err = err
			return
		}
		ic.err = ic.c.wait(ctx, ic.cmd)
	})
}

// Close ends IDLE with DONE and waits for the server's completion.
func (ic *IdleCommand) Close() error {
	ic.after()
	ic.stop()
	<-ic.stopped
	return ic.err
}

// Wait waits until IDLE ends (its context done, Close called, the
// connection ended) and returns how it ended: nil for the server's OK
// after DONE.
func (ic *IdleCommand) Wait() error {
	select {
	case <-ic.stopped:
		return ic.err
	case <-ic.cmd.done:
		ic.stop()
		<-ic.stopped
		return ic.err
	}
}

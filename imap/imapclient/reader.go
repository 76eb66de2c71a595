package imapclient

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/imap/imapwire"
)

// readLoop reads the server's responses and hands each to its owner
// until the connection ends. It is the only reader of the connection.
func (c *Client) readLoop() {
	defer close(c.readerr)
	var tagBuf [32]byte
	for {
		// The tag of the response about to be read, kept for the case
		// that the response does not parse.
		tagLen := 0
		if _, err := c.br.Peek(1); err == nil {
			b, _ := c.br.Peek(min(c.br.Buffered(), len(tagBuf)+1))
			if i := bytes.IndexByte(b, ' '); i > 0 && b[0] != '*' && b[0] != '+' {
				tagLen = copy(tagBuf[:], b[:i])
			}
		}
		resp, err := imapwire.ReadResponse(c.dec, &c.ropts)
		if err != nil {
			var pe *imapwire.ParseError
			var se *imap.SyntaxError
			if errors.As(err, &pe) || errors.As(err, &se) {
				// ReadResponse skipped the malformed response.
				c.malformed(err, string(tagBuf[:tagLen]))
				continue
			}
			c.fail(c.readError(err))
			break
		}
		if cmd := c.dispatch(resp); cmd != nil && cmd.pause {
			select {
			case <-cmd.resume:
			case <-c.closed:
			}
		}
		select {
		case <-c.closed:
			c.finish()
			return
		default:
		}
	}
	c.finish()
}

// finish completes every command in flight with the connection's error.
func (c *Client) finish() {
	c.mu.Lock()
	pending := c.pending
	c.pending = nil
	err := c.err
	c.mu.Unlock()
	for _, cmd := range pending {
		cmd.err = err
		if cmd.onDone != nil {
			cmd.onDone()
		}
		close(cmd.done)
		if cmd.resume != nil {
			// Nobody will wait for the reader to pause.
			select {
			case <-cmd.resume:
			default:
			}
		}
	}
}

// malformed handles a response that did not parse. When it carries the
// tag of a command in flight, that command fails with the error, rather
// than waiting for a completion that has gone by; otherwise the response
// is dropped (and logged).
func (c *Client) malformed(err error, tag string) {
	err = fmt.Errorf("%w: %w", ErrProtocol, err)
	if tag != "" {
		c.mu.Lock()
		var cmd *command
		for _, p := range c.pending {
			if p.tag == tag {
				cmd = p
				break
			}
		}
		c.mu.Unlock()
		if cmd != nil {
			c.complete(cmd, nil, err)
			return
		}
	}
	if c.logger != nil {
		c.logger.Debug("imapclient: malformed response skipped", "proto", "imap", "err", err)
	}
}

// owner returns the command in flight that collects responses of kind k.
func (c *Client) owner(k kind) *command {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.pending {
		if p.kinds&k != 0 {
			return p
		}
	}
	return nil
}

// deliver gives resp to the owner of k; it reports false when there is
// none (an abandoned owner takes the response and drops it).
func (c *Client) deliver(k kind, resp any) bool {
	cmd := c.owner(k)
	if cmd == nil {
		return false
	}
	if !cmd.abandoned.Load() && cmd.onData != nil {
		cmd.onData(resp)
	}
	return true
}

func (c *Client) other(resp any) {
	if c.handler.Other != nil {
		c.handler.Other(resp)
	}
}

// dispatch hands one response to its owner. It returns the command that
// a tagged response completed.
func (c *Client) dispatch(resp any) *command {
	switch r := resp.(type) {
	case *imapwire.Continuation:
		select {
		case c.contCh <- r:
		default:
			if c.logger != nil {
				c.logger.Debug("imapclient: unexpected continuation request", "proto", "imap")
			}
		}
	case *imap.StatusResponse:
		if r.Tag != "" {
			return c.tagged(r)
		}
		if r.Code.Is(imap.CodeCapability) {
			c.setCaps(r.Code.Caps)
		}
		switch {
		case r.Type == imap.StatusBYE:
			c.mu.Lock()
			c.bye = r
			c.mu.Unlock()
			if c.handler.Bye != nil {
				c.handler.Bye(r)
			}
			return nil
		case r.Code.Is(imap.CodeAlert):
			if c.handler.Alert != nil {
				c.handler.Alert(r.Text)
			}
		}
		if r.Code != nil && c.deliver(kindCode, r) {
			return nil
		}
		if !r.Code.Is(imap.CodeAlert) {
			c.other(r)
		}
	case *imapwire.CapabilityData:
		c.setCaps(r.Caps)
		c.deliver(kindCapability, r)
	case *imapwire.ListData:
		if !c.deliver(kindList, r) {
			c.other(r)
		}
	case *imap.StatusData:
		if !c.deliver(kindStatus, r) {
			c.other(r)
		}
	case *imapwire.SearchData, *imapwire.ESearchData:
		if !c.deliver(kindSearch, r) {
			c.other(r)
		}
	case *imapwire.FetchData:
		if !c.deliver(kindFetch, r) && c.handler.Fetch != nil {
			c.handler.Fetch(r)
		}
	case *imapwire.NumData:
		switch r.Kind {
		case imapwire.NumExists:
			if c.handler.Exists != nil {
				c.handler.Exists(r.Num)
			}
			c.deliver(kindSelect, r)
		case imapwire.NumExpunge:
			if c.handler.Expunge != nil {
				c.handler.Expunge(r.Num)
			}
			c.deliver(kindExpunge, r)
		default:
			if !c.deliver(kindSelect, r) {
				c.other(r)
			}
		}
	case *imapwire.FlagsData:
		if !c.deliver(kindSelect, r) {
			c.other(r)
		}
	case *imapwire.VanishedData:
		if r.Earlier {
			// RFC 7162 §3.2.5.2, §3.2.6: the answer to SELECT (QRESYNC)
			// or UID FETCH (VANISHED).
			if c.deliver(kindFetch, r) || c.deliver(kindSelect, r) {
				return nil
			}
		}
		if c.handler.Vanished != nil {
			c.handler.Vanished(r)
		}
		if !r.Earlier {
			c.deliver(kindExpunge, r)
		}
	case *imapwire.EnabledData:
		if !c.deliver(kindEnabled, r) {
			c.other(r)
		}
	case *imapwire.NamespaceData:
		if !c.deliver(kindNamespace, r) {
			c.other(r)
		}
	case *imapwire.IDData:
		if !c.deliver(kindID, r) {
			c.other(r)
		}
	case *imapwire.QuotaData, *imapwire.QuotaRootData:
		if !c.deliver(kindQuota, r) {
			c.other(r)
		}
	case *imapwire.UnknownData:
		switch r.Name {
		case "SORT":
			if c.deliver(kindSearch, r) {
				return nil
			}
		case "THREAD":
			if c.deliver(kindThread, r) {
				return nil
			}
		}
		c.other(r)
	default:
		c.other(r)
	}
	return nil
}

func (c *Client) setCaps(caps imap.Capabilities) {
	c.mu.Lock()
	c.caps = caps
	c.mu.Unlock()
}

// tagged completes the command a tagged response answers.
func (c *Client) tagged(st *imap.StatusResponse) *command {
	c.mu.Lock()
	var cmd *command
	for _, p := range c.pending {
		if p.tag == st.Tag {
			cmd = p
			break
		}
	}
	c.mu.Unlock()
	if cmd == nil {
		if c.logger != nil {
			c.logger.Debug("imapclient: response with an unknown tag", "proto", "imap", "tag", st.Tag)
		}
		return nil
	}
	if st.Code.Is(imap.CodeCapability) {
		c.setCaps(st.Code.Caps)
	}
	var err error
	switch st.Type {
	case imap.StatusOK:
	case imap.StatusNO, imap.StatusBAD:
		err = st.Err()
	default:
		err = fmt.Errorf("%w: tagged %s", ErrProtocol, st.Type)
	}
	c.complete(cmd, st, err)
	return cmd
}

// complete ends a command in flight.
func (c *Client) complete(cmd *command, st *imap.StatusResponse, err error) {
	c.mu.Lock()
	found := false
	for i, p := range c.pending {
		if p == cmd {
			c.pending = append(c.pending[:i], c.pending[i+1:]...)
			found = true
			break
		}
	}
	c.broadcast()
	c.mu.Unlock()
	if !found {
		return
	}
	cmd.status, cmd.err = st, err
	if cmd.onDone != nil {
		cmd.onDone()
	}
	close(cmd.done)
}

// fetchSection receives a body section of a FETCH response: the owner
// streams it with its onSection, or it is read into memory.
func (c *Client) fetchSection(f *imapwire.FetchData, it imap.FetchItem, r io.Reader, size int64) error {
	cmd := c.owner(kindFetch)
	if cmd != nil && cmd.abandoned.Load() {
		_, err := io.Copy(io.Discard, r)
		return err
	}
	if cmd != nil && cmd.onSection != nil {
		cmd.onSection(f, it, r, size)
		// Whatever the callback left is skipped, so that the connection
		// stays in step.
		_, err := io.Copy(io.Discard, r)
		return err
	}
	var b bytes.Buffer
	b.Grow(int(min(size, 1<<20)))
	if _, err := io.Copy(&b, r); err != nil {
		return err
	}
	f.Sections = append(f.Sections, imapwire.SectionData{Item: it, Data: b.Bytes()})
	return nil
}

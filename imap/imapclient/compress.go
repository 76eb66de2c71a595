package imapclient

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/imap/imapwire"
)

// Compress turns on COMPRESS=DEFLATE (RFC 4978): from the server's OK on,
// both directions are raw DEFLATE streams (RFC 1951), flushed at the end
// of each command and response. The server must announce it. Over TLS
// compression can let an attacker who injects chosen text learn secrets
// from the sizes (CRIME); authenticate before compressing.
func (c *Client) Compress(ctx context.Context) error {
	if has, err := c.has(ctx, imap.CapCompressDeflate); err != nil {
		return err
	} else if !has {
		return fmt.Errorf("%w: COMPRESS=DEFLATE", ErrUnsupported)
	}
	cmd := c.newCommand("COMPRESS")
	cmd.exclusive = true
	cmd.pause = true
	cmd.resume = make(chan struct{})
	defer close(cmd.resume)
	if err := c.run(ctx, cmd, func(e *imapwire.Encoder) { e.Atom(" DEFLATE") }); err != nil {
		var ie *imap.Error
		if !errors.As(err, &ie) {
			c.fail(err) // abandoned, the stream's state is unknown
		}
		return err
	}
	// The reader has stopped after the tagged OK. RFC 4978 §3: what the
	// server sends next is compressed, and some of it may be buffered
	// already.
	buffered, _ := c.br.Peek(c.br.Buffered())
	buffered = bytes.Clone(buffered)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.bw.Flush(); err != nil {
		return err
	}
	c.mu.Lock()
	raw := c.conn
	fw, _ := flate.NewWriter(raw, flate.DefaultCompression)
	c.conn = &compressConn{
		Conn: raw,
		r:    flate.NewReader(io.MultiReader(bytes.NewReader(buffered), raw)),
		w:    fw,
	}
	c.mu.Unlock()
	c.br.Reset(connReader{c})
	c.bw.Reset(connWriter{c})
	return nil
}

// compressConn is a connection with DEFLATE both ways.
type compressConn struct {
	net.Conn
	r io.ReadCloser
	w *flate.Writer
}

func (cc *compressConn) Read(p []byte) (int, error) { return cc.r.Read(p) }

// Write compresses p and flushes it (a sync flush, RFC 4978 §4), so that
// the server can act on each command as it arrives. The Client writes
// only in whole bufio buffers or at the end of a command.
func (cc *compressConn) Write(p []byte) (int, error) {
	n, err := cc.w.Write(p)
	if err == nil {
		err = cc.w.Flush()
	}
	return n, err
}

// tlsOf returns the TLS connection under nc, or nil.
func tlsOf(nc net.Conn) *tls.Conn {
	switch v := nc.(type) {
	case *tls.Conn:
		return v
	case *compressConn:
		return tlsOf(v.Conn)
	}
	return nil
}

package imapclient

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/imap/imapwire"
)

// Capability asks for the server's capabilities (RFC 3501 §6.1.1); Caps
// returns them afterwards without asking again.
func (c *Client) Capability(ctx context.Context) (imap.Capabilities, error) {
	cmd := c.newCommand("CAPABILITY")
	cmd.kinds = kindCapability
	var caps imap.Capabilities
	cmd.onData = func(resp any) { caps = resp.(*imapwire.CapabilityData).Caps }
	if err := c.run(ctx, cmd, nil); err != nil {
		return nil, err
	}
	if caps == nil {
		return nil, fmt.Errorf("%w: no CAPABILITY response", ErrProtocol)
	}
	return caps, nil
}

// Noop sends NOOP (RFC 3501 §6.1.2), which gives the server a chance to
// report mailbox changes to the Handler.
func (c *Client) Noop(ctx context.Context) error { return c.simple(ctx, "NOOP") }

// Logout ends the session (RFC 3501 §6.1.3) and closes the connection.
func (c *Client) Logout(ctx context.Context) error {
	cmd := c.newCommand("LOGOUT")
	cmd.exclusive = true
	c.mu.Lock()
	c.loggingOut = true
	c.mu.Unlock()
	err := c.run(ctx, cmd, nil)
	c.fail(ErrClosed)
	var ie *imap.Error
	if errors.As(err, &ie) && ie.Type == imap.StatusBYE {
		// The connection ended after the BYE, before the tagged OK.
		err = nil
	}
	return err
}

// StartTLS upgrades the connection to TLS (RFC 3501 §6.2.1). A nil config
// uses Options.TLSConfig; unless the config names the server, the
// certificate is verified against the host given to Dial (for a Client
// made by NewClient, the remote address). The capabilities are forgotten,
// as RFC 3501 says they may change.
func (c *Client) StartTLS(ctx context.Context, config *tls.Config) error {
	c.mu.Lock()
	isTLS := c.isTLS
	c.mu.Unlock()
	if isTLS {
		return errors.New("imapclient: TLS already active")
	}
	if has, err := c.has(ctx, imap.CapStartTLS); err != nil {
		return err
	} else if !has {
		return fmt.Errorf("%w: STARTTLS", ErrUnsupported)
	}
	if config == nil {
		config = c.opts.TLSConfig
	}
	addr := c.addr
	if addr == "" {
		addr = c.Conn().RemoteAddr().String()
	}
	cmd := c.newCommand("STARTTLS")
	cmd.exclusive = true
	cmd.pause = true
	cmd.resume = make(chan struct{})
	defer close(cmd.resume)
	if err := c.run(ctx, cmd, nil); err != nil {
		var ie *imap.Error
		if !errors.As(err, &ie) {
			// Abandoned, the command would leave the connection
			// neither in TLS nor out of it.
			c.fail(err)
		}
		return err
	}
	// The reader has stopped after the tagged OK. RFC 3501 §6.2.1: the
	// handshake starts at once; bytes already received can only have
	// been injected by a third party.
	if c.br.Buffered() > 0 {
		err := fmt.Errorf("%w: data after the response to STARTTLS", ErrProtocol)
		c.fail(err)
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	tc := tls.Client(c.Conn(), clientTLS(config, addr))
	if err := handshake(ctx, tc, &c.opts); err != nil {
		c.fail(fmt.Errorf("imapclient: TLS handshake: %w", err))
		return err
	}
	c.mu.Lock()
	c.conn = tc
	c.isTLS = true
	c.caps = nil
	c.mu.Unlock()
	c.br.Reset(connReader{c})
	c.bw.Reset(connWriter{c})
	return nil
}

// secure checks that credentials may be sent.
func (c *Client) secure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.isTLS && !c.opts.AllowInsecureAuth {
		return ErrInsecureAuth
	}
	return nil
}

// Login authenticates with LOGIN (RFC 3501 §6.2.3). It refuses to run
// without TLS unless Options.AllowInsecureAuth is set, and when the server
// announces LOGINDISABLED. Capabilities not sent with the response are
// forgotten, as they may change after authentication.
func (c *Client) Login(ctx context.Context, username, password string) error {
	if err := c.secure(); err != nil {
		return err
	}
	if has, err := c.has(ctx, imap.CapLoginDisabled); err != nil {
		return err
	} else if has {
		return fmt.Errorf("%w: LOGIN (LOGINDISABLED)", ErrUnsupported)
	}
	cmd := c.newCommand("LOGIN")
	cmd.exclusive = true
	cmd.onDone = c.afterAuth(cmd)
	return c.run(ctx, cmd, func(e *imapwire.Encoder) {
		e.SP()
		e.AString(username)
		e.SP()
		e.AString(password)
	})
}

// afterAuth forgets the capabilities unless the tagged OK carried them.
func (c *Client) afterAuth(cmd *command) func() {
	return func() {
		if cmd.err == nil && !cmd.status.Code.Is(imap.CodeCapability) {
			c.setCaps(nil)
		}
	}
}

// Authenticate runs a SASL exchange with AUTHENTICATE (RFC 3501 §6.2.2),
// sending the initial response on the command line when the server
// announces SASL-IR (RFC 4959). It refuses to run without TLS unless
// Options.AllowInsecureAuth is set. For a mechanism in which the server
// proves itself (auth.Completer, SCRAM), an OK without a valid proof is an
// error wrapping auth.ErrAuthFailed; close the connection then.
func (c *Client) Authenticate(ctx context.Context, a auth.Client) error {
	if err := c.secure(); err != nil {
		return err
	}
	saslIR, err := c.has(ctx, imap.CapSASLIR)
	if err != nil {
		return err
	}
	mech, ir, err := a.Start()
	if err != nil {
		return err
	}
	cmd := c.newCommand("AUTHENTICATE")
	cmd.exclusive = true
	cmd.onDone = c.afterAuth(cmd)
	err = c.send(ctx, cmd, func(e *imapwire.Encoder) {
		e.SP()
		e.Atom(mech)
		if ir != nil && saslIR {
			e.SP()
			e.Atom(encodeSASL(ir))
			ir = nil
		}
	})
	if err != nil {
		return err
	}
	for {
		cont, err := c.waitContinuation(ctx, cmd)
		if errors.Is(err, errRefused) {
			break // completed
		}
		if err != nil {
			return err
		}
		var resp []byte
		if ir != nil && cont.Text == "" {
			// RFC 4959 §3 without SASL-IR: the initial response follows
			// an empty challenge.
			resp, ir = ir, nil
		} else {
			chal, derr := base64.StdEncoding.DecodeString(cont.Text)
			if derr == nil {
				resp, derr = a.Next(chal)
			} else {
				derr = fmt.Errorf("%w: bad base64 in challenge", ErrProtocol)
			}
			if derr != nil {
				// RFC 3501 §6.2.2: "*" cancels the exchange; the server
				// answers BAD.
				if werr := c.writeLine(ctx, cmd, "*"); werr != nil {
					return werr
				}
				c.wait(ctx, cmd)
				return derr
			}
		}
		if err := c.writeLine(ctx, cmd, base64.StdEncoding.EncodeToString(resp)); err != nil {
			return err
		}
	}
	if err := c.wait(ctx, cmd); err != nil {
		return err
	}
	// RFC 5802 §5: SCRAM clients check the server's proof, sent in the
	// tagged OK's text or in a last challenge.
	if cm, ok := a.(auth.Completer); ok {
		return cm.Complete()
	}
	return nil
}

func encodeSASL(b []byte) string {
	if len(b) == 0 {
		return "=" // RFC 4959 §3: an empty initial response
	}
	return base64.StdEncoding.EncodeToString(b)
}

// Enable turns on extensions (RFC 5161), such as CONDSTORE, QRESYNC or
// UTF8=ACCEPT, and returns those the server enabled. After UTF8=ACCEPT
// mailbox names travel as UTF-8 (RFC 6855 §3).
func (c *Client) Enable(ctx context.Context, caps ...imap.Capability) ([]imap.Capability, error) {
	if has, err := c.has(ctx, imap.CapEnable); err != nil {
		return nil, err
	} else if !has {
		return nil, fmt.Errorf("%w: ENABLE", ErrUnsupported)
	}
	cmd := c.newCommand("ENABLE")
	cmd.exclusive = true
	var got []imap.Capability
	cmd.kinds = kindEnabled
	cmd.onData = func(resp any) { got = append(got, resp.(*imapwire.EnabledData).Caps...) }
	cmd.onDone = func() {
		if cmd.err != nil {
			return
		}
		c.mu.Lock()
		for _, cp := range got {
			c.enabled.Add(cp)
			if imap.NewCapabilities(cp).Has(imap.CapUTF8Accept) {
				c.utf8 = true
				c.ropts.UTF8 = true // on the reading goroutine
			}
		}
		c.mu.Unlock()
	}
	err := c.run(ctx, cmd, func(e *imapwire.Encoder) {
		for _, cp := range caps {
			e.SP()
			e.Atom(string(cp))
		}
	})
	return got, err
}

// ID exchanges identification with the server (RFC 2971): fields such as
// "name" and "version" (nil sends NIL). It returns the server's fields.
func (c *Client) ID(ctx context.Context, fields []imapwire.IDField) (*imapwire.IDData, error) {
	cmd := c.newCommand("ID")
	cmd.kinds = kindID
	data := &imapwire.IDData{}
	cmd.onData = func(resp any) { data = resp.(*imapwire.IDData) }
	err := c.run(ctx, cmd, func(e *imapwire.Encoder) {
		e.SP()
		if len(fields) == 0 {
			e.Nil()
			return
		}
		e.BeginList()
		for i, f := range fields {
			if i > 0 {
				e.SP()
			}
			e.String(f.Name)
			e.SP()
			if f.Value == nil {
				e.Nil()
			} else {
				e.String(*f.Value)
			}
		}
		e.EndList()
	})
	if err != nil {
		return nil, err
	}
	return data, nil
}

// Namespace asks for the personal, other users' and shared namespaces
// (RFC 2342).
func (c *Client) Namespace(ctx context.Context) (*imapwire.NamespaceData, error) {
	cmd := c.newCommand("NAMESPACE")
	cmd.kinds = kindNamespace
	var data *imapwire.NamespaceData
	cmd.onData = func(resp any) { data = resp.(*imapwire.NamespaceData) }
	if err := c.run(ctx, cmd, nil); err != nil {
		return nil, err
	}
	if data == nil {
		return nil, fmt.Errorf("%w: no NAMESPACE response", ErrProtocol)
	}
	return data, nil
}

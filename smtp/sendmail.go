package smtp

import (
	"context"
	"io"
	"net"

	"github.com/mailwire/mailwire/auth"
)

// SendMail sends one message in one call: it connects to addr ("host:port"),
// upgrades to TLS with STARTTLS when the server offers it (implicit TLS when
// the port is 465, RFC 8314), authenticates with a when it is not nil, sends
// the message from r to the recipients and quits.
//
// The TLS certificate must be valid for the host in addr. Authentication
// needs TLS: without it SendMail fails rather than send credentials in the
// clear. The error is nil only when every recipient got the message; see
// Client.Send for its forms. For anything more, use a Client.
func SendMail(ctx context.Context, addr string, a auth.Client, from string, to []string, r io.Reader) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	env := &Envelope{To: make([]Mailbox, len(to))}
	if env.From, err = parseClientAddr(from, true); err != nil {
		return err
	}
	for i, addr := range to {
		if env.To[i], err = parseClientAddr(addr, true); err != nil {
			return err
		}
	}
	var c *Client
	if port == "465" {
		c, err = DialTLS(ctx, addr, nil)
	} else {
		c, err = Dial(ctx, addr, nil)
	}
	if err != nil {
		return err
	}
	defer c.Close()
	if _, ok := c.Extension("STARTTLS"); ok && !c.tls {
		if err := c.StartTLS(ctx, nil); err != nil {
			return err
		}
	}
	if a != nil {
		if err := c.Auth(ctx, a); err != nil {
			return err
		}
	}
	if _, err := c.Send(ctx, env, r); err != nil {
		return err
	}
	return c.Quit(ctx)
}

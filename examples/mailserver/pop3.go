package main

import (
	"context"
	"crypto/tls"
	"fmt"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/pop3"
)

// newPOP3Server returns the server for one POP3 listener. USER/PASS and
// AUTH need TLS: STLS on the cleartext listener (RFC 2595 §4), or implicit
// TLS.
func (s *system) newPOP3Server(name string) *pop3.Server {
	return &pop3.Server{
		Backend:   &popBackend{sys: s, listener: name},
		TLSConfig: s.tls,
		Hostname:  s.cfg.Hostname,
		Logger:    s.log.With("listener", name),
	}
}

// popBackend serves each user's Maildir as the POP3 maildrop.
type popBackend struct {
	sys      *system
	listener string
}

func (b *popBackend) Authenticate(ctx context.Context, username, password string) error {
	err := b.sys.users.credentials().CheckPassword(ctx, username, password)
	b.logAuth(ctx, "USER/PASS", username, err)
	return err
}

func (b *popBackend) logAuth(ctx context.Context, mech, username string, err error) {
	args := []any{"listener", b.listener, "mechanism", mech, "user", username}
	if cs, ok := pop3.ConnStateFromContext(ctx); ok && cs.RemoteAddr != nil {
		args = append(args, "remote", cs.RemoteAddr.String())
	}
	if err != nil {
		b.sys.log.Warn("authentication failed", append(args, "err", err)...)
		return
	}
	b.sys.log.Info("authenticated", args...)
}

func (b *popBackend) OpenMaildrop(ctx context.Context, username string) (pop3.Maildrop, error) {
	usr := b.sys.users.lookupLogin(username)
	if usr == nil {
		return nil, fmt.Errorf("no user %q: %w", username, auth.ErrAuthFailed)
	}
	d, err := b.sys.maildir(usr)
	if err != nil {
		return nil, err
	}
	return pop3.OpenMaildir(d)
}

func (b *popBackend) SASLMechanisms(cs *tls.ConnectionState) []string {
	return b.sys.sasl.Mechanisms(cs)
}

func (b *popBackend) NewSASLServer(ctx context.Context, mech string, cs *tls.ConnectionState) (auth.Server, error) {
	srv, err := b.sys.sasl.NewServer(mech, cs)
	if err != nil {
		return nil, err
	}
	return &popAuth{Server: srv, b: b, ctx: ctx, mech: mech}, nil
}

// popAuth logs the outcome of a POP3 AUTH exchange.
type popAuth struct {
	auth.Server
	b    *popBackend
	ctx  context.Context
	mech string
}

func (p *popAuth) Next(ctx context.Context, resp []byte) ([]byte, bool, error) {
	ch, done, err := p.Server.Next(ctx, resp)
	if err != nil || done {
		p.b.logAuth(p.ctx, p.mech, p.Server.Identity(), err)
	}
	return ch, done, err
}

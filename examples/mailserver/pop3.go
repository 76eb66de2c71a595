package main

import (
	"context"
	"fmt"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/pop3"
	"github.com/mailwire/mailwire/pop3/pop3maildir"
)

// newPOP3Server returns the server for one POP3 listener. USER/PASS and
// AUTH need TLS: STLS on the cleartext listener (RFC 2595 §4), or implicit
// TLS.
func (s *system) newPOP3Server(name string) *pop3.Server {
	return &pop3.Server{
		Backend:   &popBackend{sys: s},
		TLSConfig: s.tls,
		Hostname:  s.cfg.Hostname,
		Logger:    s.log.With("listener", name),
		// As the SMTP listeners: the trusted networks are exempt from the
		// per-client limits.
		LimitExempt: s.cfg.TrustedNetworks,
	}
}

// popBackend serves each user's Maildir as the POP3 maildrop.
type popBackend struct{ sys *system }

func (b *popBackend) NewSession(c *pop3.Conn) (pop3.Session, error) {
	return &popSession{sys: b.sys, conn: c}, nil
}

// popSession is one POP3 connection: logins are checked by the users'
// SASL configuration (USER/PASS as PLAIN), and the server logs them.
type popSession struct {
	sys  *system
	conn *pop3.Conn
}

func (s *popSession) SASLMechanisms() []string {
	return s.sys.sasl.Mechanisms(s.conn.TLS())
}

func (s *popSession) NewSASLServer(_ context.Context, mech string) (auth.Server, error) {
	return s.sys.sasl.NewServer(mech, s.conn.TLS())
}

func (s *popSession) OpenMaildrop(_ context.Context, username string) (pop3.Maildrop, error) {
	usr := s.sys.users.lookupLogin(username)
	if usr == nil {
		return nil, fmt.Errorf("no user %q: %w", username, auth.ErrAuthFailed)
	}
	d, err := s.sys.maildir(usr)
	if err != nil {
		return nil, err
	}
	return pop3maildir.Open(d)
}

func (s *popSession) Close() error { return nil }

package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/message"
	"github.com/mailwire/mailwire/smtp"
)

// Replies of the mail policy.
var (
	// errRelayDenied: the MX receives only for its own domains
	// (RFC 5321 §3.6.2, RFC 3463 X.7.1).
	errRelayDenied = &smtp.Error{Code: 550, EnhancedCode: smtp.EnhancedCode{Class: 5, Subject: 7, Detail: 1}, Message: "Relay access denied"}
	// errNoRemote: submission to other domains needs an outbound queue,
	// which this server does not have (RFC 3463 X.3.0, system not capable).
	errNoRemote = &smtp.Error{Code: 550, EnhancedCode: smtp.EnhancedCode{Class: 5, Subject: 3, Detail: 0}, Message: "Delivery to remote domains is not available: this server has no outbound queue"}
	// errSenderNotOwned: RFC 6409 §6.1, the MSA checks that the sender
	// belongs to the authenticated user (RFC 3463 X.7.1).
	errSenderNotOwned = &smtp.Error{Code: 553, EnhancedCode: smtp.EnhancedCode{Class: 5, Subject: 7, Detail: 1}, Message: "Sender address not owned by the authenticated user"}
)

// newSMTPServer returns the server for one SMTP listener: the MX role when
// submission is false, message submission (RFC 6409) otherwise.
func (s *system) newSMTPServer(name string, submission bool) *smtp.Server {
	return &smtp.Server{
		Hostname:  s.cfg.Hostname,
		TLSConfig: s.tls,
		Logger:    s.log.With("listener", name),
		Backend: smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
			sess := &session{sys: s, conn: c, submission: submission, log: s.log.With("listener", name, "remote", c.RemoteAddr().String())}
			if submission {
				return &authSession{sess}, nil
			}
			return sess, nil
		}),
		// BareNewline is left at its default, BareNewlineReject: a message
		// with a bare CR or LF is refused, never split or stored.
	}
}

// session is one SMTP connection's transactions.
type session struct {
	sys        *system
	conn       *smtp.Conn
	submission bool
	log        *slog.Logger

	from  smtp.Mailbox
	rcpts []recipient
}

// recipient is an accepted RCPT: the address as given and its user.
type recipient struct {
	addr string
	user *user
}

// authSession adds SMTP AUTH (RFC 4954) for the submission listeners.
type authSession struct{ *session }

func (a *authSession) SASLMechanisms() []string {
	return a.sys.sasl.Mechanisms(a.conn.TLS())
}

func (a *authSession) NewSASLServer(_ context.Context, mech string) (auth.Server, error) {
	return a.sys.sasl.NewServer(mech, a.conn.TLS())
}

// user returns the authenticated user, or nil.
func (s *session) user() *user {
	id := s.conn.Identity()
	if id == "" {
		return nil
	}
	return s.sys.users.lookupLogin(id)
}

func (s *session) Mail(_ context.Context, from smtp.Mailbox, opts *smtp.MailOptions) error {
	if s.submission {
		// RFC 6409 §4.3: submission requires authentication.
		usr := s.user()
		if usr == nil {
			return smtp.ErrAuthRequired
		}
		// RFC 6409 §6.1: the MSA may refuse a sender that is not the
		// user's.
		if from.IsNull() || from.Domain == "" || !s.sys.users.owns(usr, from.String()) {
			s.log.Warn("sender refused", "from", from.String(), "user", usr.Name)
			return errSenderNotOwned
		}
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(_ context.Context, to smtp.Mailbox, opts *smtp.RcptOptions) error {
	addr := to.String()
	// A Mailbox without a domain is the special recipient <Postmaster>
	// (RFC 5321 §4.1.1.3), always local.
	if to.Domain != "" && !s.sys.users.localDomain(to.Domain) {
		if s.submission {
			s.log.Info("recipient refused", "to", addr, "reason", "remote")
			return errNoRemote
		}
		s.log.Warn("relay refused", "from", s.from.String(), "to", addr)
		return errRelayDenied
	}
	usr := s.sys.users.lookupAddr(addr)
	if usr == nil {
		s.log.Info("recipient refused", "to", addr, "reason", "no such user")
		return smtp.ErrNoSuchUser
	}
	s.rcpts = append(s.rcpts, recipient{addr: addr, user: usr})
	return nil
}

// Data delivers the message to the Maildir of each recipient's user. The
// server replies 250 only after this returns nil, that is after every
// Deliver has fsynced the message into new.
func (s *session) Data(_ context.Context, r io.Reader) error {
	id := queueID()
	// One copy per user, whatever the number of its addresses among the
	// recipients.
	var targets []recipient
	for _, rc := range s.rcpts {
		if !slices.ContainsFunc(targets, func(t recipient) bool { return t.user == rc.user }) {
			targets = append(targets, rc)
		}
	}
	if len(targets) == 0 {
		return errors.New("no recipients")
	}
	forAddr := ""
	if len(s.rcpts) == 1 {
		forAddr = s.rcpts[0].addr
	}
	var fixups []string
	if s.submission {
		br := bufio.NewReaderSize(r, maxPeekHeader)
		fixups = missingFields(br)
		r = br
	}
	trace, err := s.traceFields(id, forAddr, fixups)
	if err != nil {
		return err
	}
	first, err := s.sys.maildir(targets[0].user)
	if err != nil {
		return err
	}
	cr := &countingReader{r: io.MultiReader(bytes.NewReader(trace), r)}
	key, err := first.Deliver(cr)
	if err != nil {
		// Also a bare CR or LF (smtp.ErrBareNewline) or a message over the
		// size limit: nothing was stored.
		s.log.Warn("delivery failed", "id", id, "from", s.from.String(), "err", err)
		// The Session contract: read the data to its end whatever happens,
		// so that the connection stays in step.
		io.Copy(io.Discard, r)
		if errors.Is(err, smtp.ErrBareNewline) || errors.Is(err, smtp.ErrMessageTooLarge) {
			return err
		}
		return fmt.Errorf("delivery to %s: %w", targets[0].user.Name, err)
	}
	s.logDelivery(id, targets[0], key, cr.n)
	// Further users get a copy of the stored message.
	for _, t := range targets[1:] {
		d, err := s.sys.maildir(t.user)
		if err != nil {
			return err
		}
		f, err := first.Open(key)
		if err != nil {
			return err
		}
		k, err := d.Deliver(f)
		f.Close()
		if err != nil {
			s.log.Error("delivery failed", "id", id, "to", t.addr, "err", err)
			return fmt.Errorf("delivery to %s: %w", t.user.Name, err)
		}
		s.logDelivery(id, t, k, cr.n)
	}
	return nil
}

func (s *session) logDelivery(id string, t recipient, key string, size int64) {
	s.log.Info("delivered", "id", id, "from", s.from.String(), "to", t.addr, "user", t.user.Name, "key", key, "size", size)
}

// traceFields returns the Return-Path and Received fields prepended to
// the message on delivery (RFC 5321 §4.4).
func (s *session) traceFields(id, forAddr string, fixups []string) ([]byte, error) {
	host := s.conn.Hostname()
	if host == "" {
		host = "unknown"
	}
	ip := "unknown"
	if ta, ok := s.conn.RemoteAddr().(*net.TCPAddr); ok {
		ip = ta.IP.String()
	}
	rcv := &message.Received{
		From:        host,
		FromComment: "([" + ip + "])",
		By:          s.sys.cfg.Hostname,
		ByComment:   "(mailwire mailserver)",
		With:        s.conn.ReceivedProtocol(),
		ID:          id,
		For:         forAddr,
		Date:        time.Now(),
	}
	var h message.Header
	// RFC 5321 §4.4: the final delivery adds Return-Path with the
	// reverse-path of MAIL; Received comes first in trace order below it.
	h.Add("Return-Path", message.FormatReturnPath(s.from.String()))
	h.Add("Received", rcv.String())
	for _, name := range fixups {
		switch name {
		case "Date":
			h.Add("Date", message.FormatDate(time.Now()))
		case "Message-ID":
			h.Add("Message-ID", message.NewMessageID(s.sys.cfg.Hostname))
		}
	}
	// The message's own header follows, so no blank line ends these fields.
	var b bytes.Buffer
	if _, err := h.WriteFields(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (s *session) Reset(context.Context) {
	s.from = smtp.Mailbox{}
	s.rcpts = nil
}

func (s *session) Close() error { return nil }

// maxPeekHeader is how much of a submitted message is looked at for its
// Date and Message-ID fields.
const maxPeekHeader = 64 << 10

// missingFields returns which of Date and Message-ID the header of the
// message in br lacks, for the MSA to add (RFC 6409 §8.2, §8.3). It only
// peeks: the message is stored as it came, after the added fields. When the
// header does not end within maxPeekHeader bytes, or the data fails, it
// returns nothing and the message goes unchanged.
func missingFields(br *bufio.Reader) []string {
	b, _ := br.Peek(maxPeekHeader)
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		if !bytes.HasPrefix(b, []byte("\r\n")) {
			return nil
		}
		end = 0 // no header at all
	}
	header := append([]byte("\r\n"), bytes.ToLower(b[:end+2])...)
	var missing []string
	for _, name := range []string{"Date", "Message-ID"} {
		if !bytes.Contains(header, []byte("\r\n"+strings.ToLower(name)+":")) {
			missing = append(missing, name)
		}
	}
	return missing
}

// queueID returns an identifier for one delivery, for the Received field
// and the logs.
func queueID() string {
	var b [8]byte
	rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

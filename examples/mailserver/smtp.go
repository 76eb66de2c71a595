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
	"os"
	"slices"
	"strings"
	"time"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/auth/dkim"
	"github.com/mailwire/mailwire/auth/spf"
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
		// The per-client limits (connections, failed logins) spare the
		// trusted networks, as Postfix's default exceptions are mynetworks.
		LimitExempt: s.cfg.TrustedNetworks,
		Backend: smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
			sess := &session{sys: s, conn: c, submission: submission, log: s.log.With("listener", name, "remote", c.RemoteAddr().String())}
			// Authenticated submissions are not checked; mail from
			// trusted networks neither.
			sess.checked = !submission && !s.trusted(c.RemoteAddr())
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
	// checked is set on the SMTP port for clients outside
	// -trusted-networks: their mail gets SPF, DKIM and DMARC checks.
	checked bool
	log     *slog.Logger

	from  smtp.Mailbox
	utf8  bool // the transaction uses SMTPUTF8
	rcpts []recipient
	// The SPF outcomes of the HELO name (kept for the connection) and of
	// the transaction's MAIL FROM.
	heloSPF, mailSPF *spf.Outcome
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

func (s *session) Mail(ctx context.Context, from smtp.Mailbox, opts *smtp.MailOptions) error {
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
	s.utf8 = opts != nil && opts.UTF8
	if s.checked {
		s.checkSPF(ctx, from)
	}
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

// Data receives the message into a spool file, passing it on the way to
// the DKIM Verifier (SMTP port) or Signer (submission), then decides on it
// (sender authentication) and delivers it to the Maildir of each
// recipient's user, with the trace and authentication fields in front. The
// server replies 250 only after this returns nil, that is after every
// Deliver has fsynced the message into new.
func (s *session) Data(ctx context.Context, r io.Reader) error {
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

	// What streams beside the spool: the submission's signer, or the
	// verifier of mail from outside.
	var (
		fixups   []string
		signer   *dkim.Signer
		verifier *dkim.Verifier
		side     *sideWriter
	)
	if s.submission {
		br := bufio.NewReaderSize(r, maxPeekHeader)
		header := peekHeader(br)
		fixups = missingFields(header)
		if header != nil {
			signer, _ = s.newSigner(header)
		}
		r = br
		if signer != nil {
			side = &sideWriter{w: signer}
		}
	} else if s.checked {
		verifier = s.dkimVerifier()
		side = &sideWriter{w: verifier}
	}

	cr := &countingReader{r: r}
	fix := s.fixupFields(fixups)
	spool, err := s.spool(id, cr, fix, side)
	if err != nil {
		// Also a bare CR or LF (smtp.ErrBareNewline) or a message over the
		// size limit: nothing is stored.
		s.log.Warn("delivery failed", "id", id, "from", s.from.String(), "err", err)
		// The Session contract: read the data to its end whatever happens,
		// so that the connection stays in step.
		io.Copy(io.Discard, r)
		if errors.Is(err, smtp.ErrBareNewline) || errors.Is(err, smtp.ErrMessageTooLarge) {
			return err
		}
		return fmt.Errorf("spooling: %w", err)
	}
	defer func() {
		spool.Close()
		os.Remove(spool.Name())
	}()

	var (
		vd *verdict
		h  *message.Header // the checked message's header
	)
	if verifier != nil {
		var herr error
		h, herr = readHeader(io.NewSectionReader(spool, 0, 1<<62))
		vd = s.authenticate(ctx, verifier, h, herr)
		if vd.refuse != nil {
			s.log.Info("message refused", "id", id, "from", s.from.String(), "reply", vd.refuse.Error())
			return vd.refuse
		}
	}
	var signature []byte
	if signer != nil {
		if side.err == nil {
			side.err = signer.Close()
		}
		if side.err != nil {
			s.log.Error("not DKIM-signed", "id", id, "err", side.err)
		} else {
			signature = signer.Fields()
		}
	}
	trace, err := s.traceFields(id, forAddr, vd)
	if err != nil {
		return err
	}
	prefix := append(trace, signature...)
	for i, t := range targets {
		d, err := s.sys.maildir(t.user)
		if err == nil && vd != nil && vd.junk {
			d, err = s.sys.junk(d)
		}
		if err != nil {
			return fmt.Errorf("delivery to %s: %w", t.user.Name, err)
		}
		body, removed := withoutForgedResults(spool, h, s.sys.cfg.Hostname)
		if removed > 0 && i == 0 {
			s.log.Info("removed forged Authentication-Results", "id", id, "count", removed)
		}
		stored := &countingReader{r: io.MultiReader(bytes.NewReader(prefix), body)}
		key, err := d.Deliver(stored)
		if err != nil {
			s.log.Error("delivery failed", "id", id, "to", t.addr, "err", err)
			// A failure after the first delivery is reported 451 too:
			// the client retries, and the first users may get the
			// message twice.
			return fmt.Errorf("delivery to %s (%d of %d): %w", t.user.Name, i+1, len(targets), err)
		}
		s.logDelivery(id, t, key, stored.n, vd != nil && vd.junk)
	}
	return nil
}

// spool writes the fixup fields and then the message from r to a new file
// in the spool directory, passing the same bytes to side (when not nil).
// The file is returned open; the caller removes it.
func (s *session) spool(id string, r io.Reader, fixups []byte, side *sideWriter) (*os.File, error) {
	f, err := os.CreateTemp(s.sys.spoolDir, id+"-*")
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	var w io.Writer = bw
	if side != nil {
		w = io.MultiWriter(bw, side)
	}
	_, err = w.Write(fixups)
	if err == nil {
		_, err = io.Copy(w, r)
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

func (s *session) logDelivery(id string, t recipient, key string, size int64, junk bool) {
	attrs := []any{"id", id, "from", s.from.String(), "to", t.addr, "user", t.user.Name, "key", key, "size", size}
	if junk {
		attrs = append(attrs, "folder", junkFolder)
	}
	s.log.Info("delivered", attrs...)
}

// traceFields returns the fields prepended to the message on delivery:
// Return-Path (RFC 5321 §4.4), the Authentication-Results and Received-SPF
// fields of vd (when the message was checked), and the Received field.
func (s *session) traceFields(id, forAddr string, vd *verdict) ([]byte, error) {
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
	// reverse-path of MAIL; the other trace fields follow, newest first.
	h.Add("Return-Path", message.FormatReturnPath(s.from.String()))
	if vd != nil {
		for name, value := range vd.fields.All() {
			h.Add(name, value)
		}
	}
	h.Add("Received", rcv.String())
	// The message's own header follows, so no blank line ends these fields.
	// RFC 6531 §3.7.3: once SMTPUTF8 is in use, trace fields may hold
	// UTF-8 addresses as they are.
	var b bytes.Buffer
	if _, err := h.Write(&b, message.WriteOptions{FieldsOnly: true, UTF8: s.utf8}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// fixupFields returns the Date and Message-ID fields a submission lacks
// (RFC 6409 §8.2, §8.3), to go in front of its header.
func (s *session) fixupFields(names []string) []byte {
	if len(names) == 0 {
		return nil
	}
	var h message.Header
	for _, name := range names {
		switch name {
		case "Date":
			h.Add("Date", message.FormatDate(time.Now()))
		case "Message-ID":
			h.Add("Message-ID", message.NewMessageID(s.sys.cfg.Hostname))
		}
	}
	var b bytes.Buffer
	h.WriteFields(&b)
	return b.Bytes()
}

func (s *session) Reset(context.Context) {
	s.from, s.utf8 = smtp.Mailbox{}, false
	s.rcpts = nil
	s.mailSPF = nil
}

func (s *session) Close() error { return nil }

// maxPeekHeader is how much of a submitted message is looked at for its
// Date and Message-ID fields.
const maxPeekHeader = 64 << 10

// peekHeader returns the header of the message in br, its blank line
// included, when it ends within maxPeekHeader bytes; nil otherwise. It only
// peeks: br still holds the whole message.
func peekHeader(br *bufio.Reader) []byte {
	b, _ := br.Peek(maxPeekHeader)
	if bytes.HasPrefix(b, []byte("\r\n")) {
		return b[:2] // no header at all
	}
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		return nil
	}
	return b[:end+4]
}

// missingFields returns which of Date and Message-ID the header lacks,
// for the MSA to add (RFC 6409 §8.2, §8.3). A nil header (one that did not
// end within maxPeekHeader, or data that failed) lacks nothing: the message
// goes unchanged.
func missingFields(header []byte) []string {
	if header == nil {
		return nil
	}
	lower := append([]byte("\r\n"), bytes.ToLower(header)...)
	var missing []string
	for _, name := range []string{"Date", "Message-ID"} {
		if !bytes.Contains(lower, []byte("\r\n"+strings.ToLower(name)+":")) {
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

package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/message"
	"github.com/mailwire/mailwire/mime"
	"github.com/mailwire/mailwire/smtp"
)

// runSend implements "mailctl send".
func runSend(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf connFlags
	cf.register(fs, "127.0.0.1:2587", "as on port 465")
	var (
		from      = fs.String("from", "", "sender `address` (default: -user when it is an address)")
		subject   = fs.String("subject", "", "the Subject")
		body      = fs.String("body", "", "the plain text body; without it the body is read from standard input unless that is a terminal")
		html      = fs.String("html", "", "an HTML body from this `file`, besides the text")
		raw       = fs.String("raw", "", "send this message `file` as it is, less its Bcc fields (\"-\": standard input); recipients default to its To, Cc and Bcc, the sender to its From")
		mech      = fs.String("mech", "", "SASL `mechanism` (default: the strongest the server offers)")
		localName = fs.String("hostname", "", "host `name` for EHLO (default \"localhost\")")
		downgrade = fs.Bool("downgrade", true, "convert an 8-bit message to 7 bits for a server without 8BITMIME (RFC 6152); with -downgrade=false such a send fails")
		to, cc    listFlag
		bcc       listFlag
		attach    listFlag
		headers   listFlag
	)
	fs.Var(&to, "to", "recipient `address` (repeatable, or comma-separated)")
	fs.Var(&cc, "cc", "Cc recipient `address` (repeatable)")
	fs.Var(&bcc, "bcc", "blind recipient `address` (repeatable; not shown in the header)")
	fs.Var(&attach, "attach", "attach this `file` (repeatable)")
	fs.Var(&headers, "header", "add a header field, `\"Name: value\"` (repeatable)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: mailctl send [flags]\n\nCompose a message and submit it (RFC 6409) with STARTTLS and AUTH.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("send: unexpected arguments %q", fs.Args())
	}
	if err := cf.finish(); err != nil {
		return err
	}
	if *from == "" && strings.Contains(cf.user, "@") {
		*from = cf.user
	}
	ctx, cancel := context.WithTimeout(ctx, cf.timeout)
	defer cancel()

	// The message is spooled to a temporary file first: its size is then
	// known for the progress display, and nothing is sent if composing
	// fails half-way.
	spool, err := os.CreateTemp("", "mailctl-*.eml")
	if err != nil {
		return err
	}
	defer os.Remove(spool.Name())
	defer spool.Close()

	rcpts := append(append(splitList(to), splitList(cc)...), splitList(bcc)...)
	if *raw != "" {
		if *subject != "" || *body != "" || *html != "" || len(attach) > 0 || len(headers) > 0 {
			return usagef("send: -raw sends the message as it is: no -subject, -body, -html, -attach or -header")
		}
		var src io.Reader = stdin
		if *raw != "-" {
			f, err := os.Open(*raw)
			if err != nil {
				return err
			}
			defer f.Close()
			src = f
		}
		if _, err := io.Copy(spool, src); err != nil {
			return err
		}
		h, err := readHeader(spool)
		if err != nil {
			return fmt.Errorf("%s: %w", *raw, err)
		}
		if len(rcpts) == 0 {
			if rcpts, err = message.Recipients(h); err != nil {
				return fmt.Errorf("%s: recipients: %w", *raw, err)
			}
		}
		if *from == "" {
			if a, err := message.ParseAddress(h.Get("From")); err == nil {
				*from = a.Addr
			}
		}
		if *from == "" {
			return usagef("send: -from is required: the From field of %s does not hold one address", *raw)
		}
		// RFC 5322 §3.6.3: the Bcc recipients are in the envelope; the
		// copies sent must not show them.
		if h.Has("Bcc") || h.Has("Resent-Bcc") {
			if spool, err = stripBcc(spool); err != nil {
				return err
			}
			defer os.Remove(spool.Name())
			defer spool.Close()
		}
	} else {
		if *from == "" {
			return usagef("send: -from is required (or -user with a full address)")
		}
		text := *body
		if text == "" && !isTerminal(stdin) {
			b, err := io.ReadAll(stdin)
			if err != nil {
				return err
			}
			text = string(b)
		}
		if err := compose(spool, composeOptions{
			from: *from, to: splitList(to), cc: splitList(cc), subject: *subject,
			text: text, htmlFile: *html, attach: attach, headers: headers,
		}); err != nil {
			return err
		}
		// -from may carry a display name for the header ("Alice
		// <alice@example.org>"); the envelope takes the address alone.
		if a, err := message.ParseAddress(*from); err == nil {
			*from = a.Addr
		}
	}
	if len(rcpts) == 0 {
		return usagef("send: no recipients (-to, -cc, -bcc)")
	}
	// RFC 6152, RFC 6531: the envelope declares what the message holds.
	mo, err := declareBody(spool)
	if err != nil {
		return err
	}
	env := &smtp.Envelope{MailOptions: mo}
	if *from != "" {
		m, err := smtp.ParseMailbox(*from, true)
		if err != nil {
			return usagef("send: sender %q: %v", *from, err)
		}
		env.From = m
	}
	for _, r := range rcpts {
		a, err := message.ParseAddress(r)
		if err != nil {
			return usagef("send: recipient %q: %v", r, err)
		}
		m, err := smtp.ParseMailbox(a.Addr, true)
		if err != nil {
			return usagef("send: recipient %q: %v", r, err)
		}
		env.To = append(env.To, m)
	}
	if err := spool.Sync(); err != nil {
		return err
	}
	total, err := spool.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return err
	}

	c, err := dialSMTP(ctx, &cf, *localName, *downgrade)
	if err != nil {
		return err
	}
	defer c.Close()
	if cf.user != "" {
		if err := smtpAuth(ctx, c, &cf, *mech); err != nil {
			return err
		}
	}
	p := newProgress(stderr, "sending", total)
	res, err := c.Send(ctx, env, p.reader(spool))
	p.finish()
	if res != nil {
		for _, r := range res.Rcpts {
			if r.Err != nil {
				fmt.Fprintf(stdout, "%s: refused: %v\n", r.Addr, r.Err)
			} else if res.Reply != nil {
				fmt.Fprintf(stdout, "%s: accepted\n", r.Addr)
			}
		}
		if res.Reply != nil && res.Delivered() > 0 {
			fmt.Fprintf(stdout, "server: %d %s\n", res.Reply.Code, res.Reply.Message())
		}
	}
	if err != nil {
		return err
	}
	return c.Quit(ctx)
}

// declareBody reads the message in f, from its start, and returns the MAIL
// parameters that declare what it holds: BODY=8BITMIME for octets above
// 127 (RFC 6152), BODY=BINARYMIME for a NUL, which only BDAT carries (RFC
// 3030), and SMTPUTF8 for UTF-8 in the header (RFC 6532, RFC 6531), or nil
// for 7-bit text. Bare CR and LF are not binary: the client sends them as
// CR LF. It leaves f at its start.
func declareBody(f *os.File) (*smtp.MailOptions, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	mo := &smtp.MailOptions{}
	br := bufio.NewReaderSize(f, 32<<10)
	inHeader := true
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			body := bytes.TrimRight(line, "\r\n")
			if bytes.IndexByte(body, 0) >= 0 {
				mo.Body = smtp.BodyBinaryMIME
			}
			for _, b := range body {
				if b >= 0x80 {
					if mo.Body == "" {
						mo.Body = smtp.Body8BitMIME
					}
					if inHeader {
						mo.UTF8 = true
					}
					break
				}
			}
			if inHeader && len(body) == 0 {
				inHeader = false
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if mo.Body == "" && !mo.UTF8 {
		return nil, nil
	}
	return mo, nil
}

// readHeader reads the header of the message in f and rewinds f.
func readHeader(f *os.File) (*message.Header, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	h, err := message.ReadHeader(bufio.NewReader(f), message.Limits{})
	if err != nil {
		return nil, err
	}
	_, err = f.Seek(0, io.SeekStart)
	return h, err
}

// stripBcc returns a new spool file holding the message in f without its
// Bcc and Resent-Bcc fields, every other byte as it was, positioned at its
// start.
func stripBcc(f *os.File) (*os.File, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	br := bufio.NewReader(f)
	h, err := message.ReadHeader(br, message.Limits{})
	if err != nil {
		return nil, err
	}
	message.StripBcc(h)
	out, err := os.CreateTemp("", "mailctl-*.eml")
	if err != nil {
		return nil, err
	}
	if _, err := h.WriteTo(out); err == nil {
		_, err = io.Copy(out, br)
	}
	if err == nil {
		_, err = out.Seek(0, io.SeekStart)
	}
	if err != nil {
		out.Close()
		os.Remove(out.Name())
		return nil, err
	}
	return out, nil
}

// isTerminal reports whether r is a terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

type composeOptions struct {
	from, subject, text, htmlFile string
	to, cc                        []string
	attach, headers               []string
}

// compose writes a new message with mime.Mail.
func compose(w io.Writer, o composeOptions) error {
	m := &mime.Mail{Text: o.text}
	fromAddr, err := message.ParseAddress(o.from)
	if err != nil {
		return usagef("send: -from %q: %v", o.from, err)
	}
	m.Header.Add("From", fromAddr.String())
	for _, f := range []struct {
		name string
		list []string
	}{{"To", o.to}, {"Cc", o.cc}} {
		name, list := f.name, f.list
		if len(list) == 0 {
			continue
		}
		var addrs []*message.Address
		for _, s := range list {
			a, err := message.ParseAddress(s)
			if err != nil {
				return usagef("send: %s %q: %v", strings.ToLower(name), s, err)
			}
			addrs = append(addrs, a)
		}
		m.Header.Add(name, message.FormatAddressList(addrs))
	}
	if o.subject != "" {
		m.Header.Add("Subject", o.subject)
	}
	m.Header.Add("Date", message.FormatDate(time.Now()))
	_, domain, _ := strings.Cut(fromAddr.Addr, "@")
	m.Header.Add("Message-ID", message.NewMessageID(domain))
	for _, h := range o.headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return usagef("send: -header %q: want \"Name: value\"", h)
		}
		m.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	if o.htmlFile != "" {
		b, err := os.ReadFile(o.htmlFile)
		if err != nil {
			return err
		}
		m.HTML = string(b)
	}
	for _, path := range o.attach {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		m.Attachments = append(m.Attachments, mime.Attachment{Filename: filepath.Base(path), Reader: f})
	}
	_, err = m.WriteTo(w)
	return err
}

// dialSMTP connects as the flags say.
func dialSMTP(ctx context.Context, cf *connFlags, localName string, downgrade bool) (*smtp.Client, error) {
	tc, err := cf.tlsConfig()
	if err != nil {
		return nil, err
	}
	opts := &smtp.ClientOptions{TLSConfig: tc, LocalName: localName, AllowInsecureAuth: cf.plainAuth}
	if downgrade {
		opts.Downgrade = mime.To7bit
	}
	switch {
	case cf.implicit:
		return smtp.DialTLS(ctx, cf.server, opts)
	case cf.startTLS:
		return smtp.DialStartTLS(ctx, cf.server, opts)
	default:
		return smtp.Dial(ctx, cf.server, opts)
	}
}

// smtpAuth logs in with mech, or the strongest mechanism offered.
func smtpAuth(ctx context.Context, c *smtp.Client, cf *connFlags, mech string) error {
	cs, ok := c.TLSConnectionState()
	var csp *tls.ConnectionState
	if ok {
		csp = &cs
	}
	if mech == "" {
		mech = auth.ChooseMechanism(c.AuthMechanisms(), csp)
		if mech == "" {
			return fmt.Errorf("the server offers no usable AUTH mechanism (offered: %v)", c.AuthMechanisms())
		}
	}
	a, err := saslClient(strings.ToUpper(mech), cf.user, cf.password, csp)
	if err != nil {
		return err
	}
	if err := c.Auth(ctx, a); err != nil {
		return fmt.Errorf("AUTH %s: %w", mech, err)
	}
	return nil
}

// saslClient returns the client side of a password mechanism. Only -PLUS
// mechanisms bind to the TLS channel; the others tell the server the client
// does not, so that a server offering -PLUS does not suspect a downgrade.
func saslClient(mech, user, password string, cs *tls.ConnectionState) (auth.Client, error) {
	switch {
	case mech == "PLAIN":
		return auth.NewPlainClient("", user, password), nil
	case mech == "LOGIN":
		return auth.NewLoginClient(user, password), nil
	case mech == "CRAM-MD5":
		return auth.NewCRAMMD5Client(user, password), nil
	case strings.HasPrefix(mech, "SCRAM-"):
		if !strings.HasSuffix(mech, "-PLUS") {
			cs = nil
		}
		return auth.NewSCRAMClient(mech, user, password, cs)
	}
	return nil, errors.New("unsupported mechanism " + mech)
}

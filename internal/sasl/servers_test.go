package sasl_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/imap/imapserver"
	"github.com/mailwire/mailwire/internal/sasl"
	"github.com/mailwire/mailwire/internal/sasltest"
	"github.com/mailwire/mailwire/pop3"
	"github.com/mailwire/mailwire/smtp"
)

// The same SASL cases, run against every protocol server of the module:
// each must answer them alike, in its own protocol's words.

// mechs is what the test sessions offer: real mechanisms from an
// auth.ServerConfig, a mechanism that never ends, and one that succeeds on
// an empty response.
type mechs struct {
	cfg *auth.ServerConfig
}

func (m mechs) list() []string {
	return append(m.cfg.Mechanisms(nil), "X-ENDLESS", sasltest.Mechanism)
}

func (m mechs) server(mech string) (auth.Server, error) {
	switch mech {
	case "X-ENDLESS":
		return endless{}, nil
	case sasltest.Mechanism:
		return &sasltest.EmptyServer{ID: "alice"}, nil
	}
	return m.cfg.NewServer(mech, nil)
}

type endless struct{}

func (endless) Next(context.Context, []byte) ([]byte, bool, error) {
	return []byte("again"), false, nil
}
func (endless) Identity() string { return "" }

// smtpSession and pop3Session adapt mechs to each protocol's Session.
type smtpSession struct{ mechs }

func (smtpSession) Mail(context.Context, smtp.Mailbox, *smtp.MailOptions) error { return nil }
func (smtpSession) Rcpt(context.Context, smtp.Mailbox, *smtp.RcptOptions) error { return nil }
func (smtpSession) Data(context.Context, io.Reader) error                       { return nil }
func (smtpSession) Reset(context.Context)                                       {}
func (smtpSession) Close() error                                                { return nil }
func (s smtpSession) SASLMechanisms() []string                                  { return s.list() }
func (s smtpSession) NewSASLServer(_ context.Context, mech string) (auth.Server, error) {
	return s.server(mech)
}

type pop3Session struct{ mechs }

func (s pop3Session) SASLMechanisms() []string { return s.list() }
func (s pop3Session) NewSASLServer(_ context.Context, mech string) (auth.Server, error) {
	return s.server(mech)
}
func (pop3Session) OpenMaildrop(context.Context, string) (pop3.Maildrop, error) {
	return emptyDrop{}, nil
}
func (pop3Session) Close() error { return nil }

// imapSession offers the mechanisms; its mailbox methods are never called.
type imapSession struct {
	imapserver.Session
	mechs
}

func (s imapSession) SASLMechanisms() []string { return s.list() }
func (s imapSession) NewSASLServer(_ context.Context, mech string) (auth.Server, error) {
	return s.server(mech)
}
func (imapSession) Close() error { return nil }

type emptyDrop struct{}

func (emptyDrop) Messages(context.Context) ([]pop3.Message, error) { return nil, nil }
func (emptyDrop) Open(context.Context, int) (io.ReadCloser, error) { return nil, io.EOF }
func (emptyDrop) Delete(context.Context, []int) error              { return nil }
func (emptyDrop) Close() error                                     { return nil }

// protocol drives one server.
type protocol struct {
	name string
	// start serves on a loopback listener and returns its address.
	start func(t *testing.T, m mechs, insecure bool) string
	// greet reads the greeting and does what AUTH needs first.
	greet func(t *testing.T, c *client)
	// auth is the command, challenge the prefix of a challenge line.
	auth, challenge string
	// replies maps each outcome to the prefix of the final reply.
	replies map[sasl.Outcome]string
}

type client struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

func (c *client) send(line string) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := c.nc.Write([]byte(line + "\r\n"))
	require.NoError(c.t, err)
}

// reply reads one reply, of one or several lines (SMTP's "250-"), and
// returns its last line.
func (c *client) reply() string {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		line, err := c.r.ReadString('\n')
		require.NoError(c.t, err)
		line = strings.TrimRight(line, "\r\n")
		if len(line) >= 4 && line[3] == '-' && line[0] >= '2' && line[0] <= '5' {
			continue
		}
		return line
	}
}

var protocols = []protocol{
	{
		name: "smtp",
		start: func(t *testing.T, m mechs, insecure bool) string {
			srv := &smtp.Server{Hostname: "mx.test", AllowInsecureAuth: !insecure,
				Backend: smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return smtpSession{m}, nil })}
			return serve(t, func(l net.Listener) { srv.Serve(l) }, func() { srv.Close() })
		},
		greet: func(t *testing.T, c *client) {
			require.True(t, strings.HasPrefix(c.reply(), "220 "))
			c.send("EHLO client.test")
			require.True(t, strings.HasPrefix(c.reply(), "250 "))
		},
		auth: "AUTH", challenge: "334 ",
		replies: map[sasl.Outcome]string{
			sasl.OK: "235 2.7.0", sasl.Failed: "535 5.7.8", sasl.Cancelled: "501 ", sasl.Syntax: "501 ",
			sasl.TooLong: "500 5.5.6", sasl.Insecure: "538 5.7.11", sasl.NoMechanism: "504 ",
		},
	},
	{
		name: "pop3",
		start: func(t *testing.T, m mechs, insecure bool) string {
			srv := &pop3.Server{Hostname: "pop.test", AllowInsecureAuth: !insecure,
				Backend: pop3.BackendFunc(func(*pop3.Conn) (pop3.Session, error) { return pop3Session{m}, nil })}
			return serve(t, func(l net.Listener) { srv.Serve(l) }, func() { srv.Close() })
		},
		greet: func(t *testing.T, c *client) {
			require.True(t, strings.HasPrefix(c.reply(), "+OK"))
		},
		auth: "AUTH", challenge: "+ ",
		replies: map[sasl.Outcome]string{
			sasl.OK: "+OK", sasl.Failed: "-ERR [AUTH]", sasl.Cancelled: "-ERR ", sasl.Syntax: "-ERR ",
			sasl.TooLong: "-ERR ", sasl.Insecure: "-ERR [AUTH]", sasl.NoMechanism: "-ERR ",
		},
	},
	{
		name: "imap",
		start: func(t *testing.T, m mechs, insecure bool) string {
			srv := &imapserver.Server{Hostname: "imap.test", AllowInsecureAuth: !insecure,
				Backend: imapserver.BackendFunc(func(*imapserver.Conn) (imapserver.Session, error) { return imapSession{mechs: m}, nil })}
			return serve(t, func(l net.Listener) { srv.Serve(l) }, func() { srv.Close() })
		},
		greet: func(t *testing.T, c *client) {
			require.True(t, strings.HasPrefix(c.reply(), "* OK"))
		},
		auth: "a1 AUTHENTICATE", challenge: "+ ",
		replies: map[sasl.Outcome]string{
			sasl.OK: "a1 OK", sasl.Failed: "a1 NO [AUTHENTICATIONFAILED]", sasl.Cancelled: "a1 BAD ", sasl.Syntax: "a1 BAD ",
			sasl.TooLong: "a1 BAD ", sasl.Insecure: "a1 NO [PRIVACYREQUIRED]", sasl.NoMechanism: "a1 NO ",
		},
	},
}

func serve(t *testing.T, run func(net.Listener), stop func()) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go run(l)
	t.Cleanup(stop)
	return l.Addr().String()
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestServersSASL(t *testing.T) {
	store := auth.NewMemoryStore()
	require.NoError(t, store.SetPassword("alice", "secret"))
	m := mechs{cfg: &auth.ServerConfig{Credentials: store, AllowCleartext: true, Allowed: []string{"PLAIN", "LOGIN", "CRAM-MD5"}}}
	tests := []struct {
		name     string
		insecure bool     // the server refuses AUTH without TLS
		command  string   // after "AUTH "
		answers  []string // one per challenge
		outcome  sasl.Outcome
	}{
		{name: "PLAIN with initial response", command: "PLAIN " + b64("\x00alice\x00secret")},
		{name: "LOGIN in two rounds", command: "LOGIN", answers: []string{b64("alice"), b64("secret")}},
		{name: "wrong password", command: "PLAIN " + b64("\x00alice\x00wrong"), outcome: sasl.Failed},
		{name: "cancel", command: "LOGIN", answers: []string{"*"}, outcome: sasl.Cancelled},
		{name: "empty initial response", command: sasltest.Mechanism + " ="},
		{name: "empty response after a challenge", command: sasltest.Mechanism, answers: []string{""}},
		{name: "bad base64", command: "PLAIN !!!!", outcome: sasl.Syntax},
		{name: "bad base64 after a challenge", command: "LOGIN", answers: []string{"not base64"}, outcome: sasl.Syntax},
		{name: "bounded rounds", command: "X-ENDLESS", answers: repeat("", sasl.DefaultMaxRounds), outcome: sasl.Syntax},
		{name: "line too long", command: "LOGIN", answers: []string{strings.Repeat("A", sasl.MaxLine+1)}, outcome: sasl.TooLong},
		{name: "unknown mechanism", command: "X-NONE", outcome: sasl.NoMechanism},
		{name: "cleartext refused", insecure: true, command: "PLAIN " + b64("\x00alice\x00secret"), outcome: sasl.Insecure},
	}
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			addrs := map[bool]string{false: p.start(t, m, false), true: p.start(t, m, true)}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					nc, err := net.Dial("tcp", addrs[tt.insecure])
					require.NoError(t, err)
					defer nc.Close()
					c := &client{t: t, nc: nc, r: bufio.NewReader(nc)}
					p.greet(t, c)
					c.send(p.auth + " " + tt.command)
					line := c.reply()
					for _, a := range tt.answers {
						require.True(t, strings.HasPrefix(line, p.challenge), "a challenge, got %q", line)
						c.send(a)
						line = c.reply()
					}
					assert.True(t, strings.HasPrefix(line, p.replies[tt.outcome]), "want %q, got %q", p.replies[tt.outcome], line)
				})
			}
		})
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

package smtptest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/smtp"
	"github.com/mailwire/mailwire/smtp/smtptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

const msg = "Subject: hi\r\n\r\n.dot\r\nbody\r\n"

func TestRecords(t *testing.T) {
	srv := smtptest.NewServer(t)
	require.NoError(t, smtp.SendMail(ctx(t), srv.Addr, nil, "a@a.example.test", []string{"b@b.example.test", "c@b.example.test"}, strings.NewReader(msg)))
	require.NoError(t, smtp.SendMail(ctx(t), srv.Addr, nil, "", []string{"d@b.example.test"}, strings.NewReader("x")))
	ms := srv.Messages()
	require.Len(t, ms, 2)
	assert.Equal(t, "a@a.example.test", ms[0].From)
	assert.Equal(t, []string{"b@b.example.test", "c@b.example.test"}, ms[0].To)
	assert.Equal(t, msg, string(ms[0].Data))
	assert.Equal(t, "localhost", ms[0].Hello)
	assert.False(t, ms[0].TLS)
	assert.Empty(t, ms[0].Identity)
	assert.Equal(t, "", ms[1].From, "null reverse-path")
	assert.Equal(t, "x\r\n", string(ms[1].Data))
	assert.Equal(t, 2, srv.Connections())
	srv.Reset()
	assert.Empty(t, srv.Messages())
}

func TestParameters(t *testing.T) {
	srv := smtptest.NewServer(t)
	c, err := smtp.Dial(ctx(t), srv.Addr, nil)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Send(ctx(t), &smtp.Envelope{
		From:        smtp.MustParseMailbox("a@a.example.test"),
		MailOptions: &smtp.MailOptions{Body: smtp.BodyBinaryMIME, EnvelopeID: "env-1", Size: 8},
		To:          []smtp.Mailbox{smtp.MustParseMailbox("b@b.example.test")},
		RcptOptions: []*smtp.RcptOptions{{Notify: []smtp.DSNNotify{smtp.NotifyFailure}}},
	}, strings.NewReader("bin\x00ary\n"))
	require.NoError(t, err)
	m := srv.Messages()[0]
	assert.Equal(t, smtp.BodyBinaryMIME, m.MailOptions.Body)
	assert.Equal(t, "env-1", m.MailOptions.EnvelopeID)
	assert.Equal(t, []smtp.DSNNotify{smtp.NotifyFailure}, m.RcptOptions[0].Notify)
	assert.Equal(t, "bin\x00ary\n", string(m.Data), "BINARYMIME goes through BDAT untouched")
}

func TestSTARTTLSAndAuth(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithSTARTTLS(), smtptest.WithAuth("user", "secret"))
	opts := &smtp.ClientOptions{TLSConfig: srv.ClientTLSConfig()}

	c, err := smtp.Dial(ctx(t), srv.Addr, opts)
	require.NoError(t, err)
	assert.Empty(t, c.AuthMechanisms(), "no AUTH before TLS")
	require.NoError(t, c.StartTLS(ctx(t), nil))
	assert.Contains(t, c.AuthMechanisms(), "PLAIN")
	err = c.Auth(ctx(t), auth.NewPlainClient("", "user", "wrong"))
	var e *smtp.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 535, e.Code)
	require.NoError(t, c.Auth(ctx(t), auth.NewLoginClient("user", "secret")))
	_, err = c.Send(ctx(t), &smtp.Envelope{From: smtp.MustParseMailbox("a@a.example.test"), To: []smtp.Mailbox{smtp.MustParseMailbox("b@b.example.test")}}, strings.NewReader(msg))
	require.NoError(t, err)
	require.NoError(t, c.Quit(ctx(t)))

	m := srv.Messages()[0]
	assert.True(t, m.TLS)
	assert.Equal(t, "user", m.Identity)
}

func TestImplicitTLS(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithImplicitTLS(), smtptest.WithAuth("user", "secret"))
	c, err := smtp.DialTLS(ctx(t), srv.Addr, &smtp.ClientOptions{TLSConfig: srv.ClientTLSConfig()})
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Auth(ctx(t), auth.NewPlainClient("", "user", "secret")))
	_, err = c.Send(ctx(t), &smtp.Envelope{From: smtp.MustParseMailbox("a@a.example.test"), To: []smtp.Mailbox{smtp.MustParseMailbox("b@b.example.test")}}, strings.NewReader(msg))
	require.NoError(t, err)
	assert.True(t, srv.Messages()[0].TLS)
}

func TestInsecureAuth(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithAuth("user", "secret"), smtptest.WithInsecureAuth())
	c, err := smtp.Dial(ctx(t), srv.Addr, &smtp.ClientOptions{AllowInsecureAuth: true})
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Auth(ctx(t), auth.NewPlainClient("", "user", "secret")))
}

func TestHooks(t *testing.T) {
	srv := smtptest.NewServer(t,
		smtptest.WithMailHook(func(from string) error {
			if from == "spammer@a.example.test" {
				return &smtp.Error{Code: 550, EnhancedCode: smtp.EnhancedCode{Class: 5, Subject: 7, Detail: 1}, Message: "go away"}
			}
			return nil
		}),
		smtptest.WithRcptHook(func(to string) error {
			if strings.HasPrefix(to, "full@") {
				return smtp.ErrMailboxFull
			}
			return nil
		}),
		smtptest.WithDataHook(func(m *smtptest.Message) error {
			if strings.Contains(string(m.Data), "virus") {
				return &smtp.Error{Code: 554, EnhancedCode: smtp.EnhancedCode{Class: 5, Subject: 6, Detail: 0}, Message: "infected"}
			}
			return nil
		}),
	)
	c, err := smtp.Dial(ctx(t), srv.Addr, nil)
	require.NoError(t, err)
	defer c.Close()

	_, err = c.Send(ctx(t), &smtp.Envelope{From: smtp.MustParseMailbox("spammer@a.example.test"), To: []smtp.Mailbox{smtp.MustParseMailbox("b@b.example.test")}}, strings.NewReader(msg))
	var e *smtp.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 550, e.Code)

	res, err := c.Send(ctx(t), &smtp.Envelope{From: smtp.MustParseMailbox("a@a.example.test"), To: []smtp.Mailbox{smtp.MustParseMailbox("b@b.example.test"), smtp.MustParseMailbox("full@b.example.test")}}, strings.NewReader(msg))
	var de *smtp.DeliveryError
	require.ErrorAs(t, err, &de)
	assert.True(t, smtp.IsTemporary(de.Failed[0].Err))
	assert.Equal(t, 1, res.Delivered())

	_, err = c.Send(ctx(t), &smtp.Envelope{From: smtp.MustParseMailbox("a@a.example.test"), To: []smtp.Mailbox{smtp.MustParseMailbox("b@b.example.test")}}, strings.NewReader("virus\r\n"))
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 554, e.Code)
	assert.False(t, errors.As(err, &de))

	require.Len(t, srv.Messages(), 1, "only the accepted message is recorded")
	assert.Equal(t, []string{"b@b.example.test"}, srv.Messages()[0].To)
}

func TestLMTP(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithLMTP())
	c, err := smtp.Dial(ctx(t), srv.Addr, &smtp.ClientOptions{LMTP: true})
	require.NoError(t, err)
	defer c.Close()
	res, err := c.Send(ctx(t), &smtp.Envelope{From: smtp.MustParseMailbox("a@a.example.test"), To: []smtp.Mailbox{smtp.MustParseMailbox("b@b.example.test"), smtp.MustParseMailbox("c@b.example.test")}}, strings.NewReader(msg))
	require.NoError(t, err)
	assert.Equal(t, 2, res.Delivered())
	assert.Len(t, srv.Messages(), 1)
}

func TestConfigAndClose(t *testing.T) {
	srv := smtptest.NewServer(nil, smtptest.WithConfig(func(s *smtp.Server) { s.Limits.MaxMessageBytes = 10 }))
	_, err := smtp.Dial(ctx(t), srv.Addr, nil)
	require.NoError(t, err)
	err = smtp.SendMail(ctx(t), srv.Addr, nil, "a@a.example.test", []string{"b@b.example.test"}, strings.NewReader(strings.Repeat("x", 100)))
	assert.True(t, smtp.IsPermanent(err), "%v", err)
	require.NoError(t, srv.Close())
	require.NoError(t, srv.Close(), "Close twice")
	_, err = smtp.Dial(ctx(t), srv.Addr, nil)
	assert.Error(t, err)
}

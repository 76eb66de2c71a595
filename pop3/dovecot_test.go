package pop3

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/internal/peer"
	"github.com/mailwire/mailwire/message/maildir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInteropDovecot runs our client against Dovecot's POP3 server over a
// Maildir the test fills.
func TestInteropDovecot(t *testing.T) {
	msgs := []string{msg1, msg2, msg3}
	d := peer.StartDovecot(t, peer.DovecotOptions{
		Protocols: []string{"pop3"},
		TLS:       true,
		Users:     map[string]string{"alice": "secret", "bob": "hunter2"},
		Prefill: func(user, dir string) error {
			md, err := maildir.Create(dir)
			if err != nil || user != "alice" {
				return err
			}
			for _, m := range msgs {
				if _, err := md.Deliver(strings.NewReader(m)); err != nil {
					return err
				}
			}
			return nil
		},
	})
	ctx := dovecotCtx(t)
	addr := peer.Addr(d.POP3Port)

	c, err := Dial(ctx, addr)
	require.NoError(t, err)
	c.AllowInsecureAuth = true // a loopback test server without TLS
	defer c.Close()
	caps, err := c.Capa(ctx)
	require.NoError(t, err)
	for _, tag := range []string{"TOP", "UIDL", "RESP-CODES", "PIPELINING", "USER", "SASL", "STLS"} {
		assert.True(t, caps.Has(tag), tag)
	}
	require.NoError(t, c.STLS(ctx, d.TLS.Client))
	err = c.Login(ctx, "alice", "wrong")
	var pe *Error
	require.True(t, errors.As(err, &pe), "%v", err)
	assert.Equal(t, CodeAuth, pe.Code)
	require.NoError(t, c.Login(ctx, "alice", "secret"))

	n, _, err := c.Stat(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	list, err := c.List(ctx)
	require.NoError(t, err)
	uids, err := c.Uidl(ctx)
	require.NoError(t, err)
	require.Len(t, uids, 3)
	for i, m := range msgs {
		rc, err := c.Retr(ctx, i+1)
		require.NoError(t, err)
		b, err := io.ReadAll(rc)
		require.NoError(t, err)
		want := strings.ReplaceAll(strings.ReplaceAll(m, "\r\n", "\n"), "\n", "\r\n")
		assert.Equal(t, want, string(b))
		assert.Equal(t, int64(len(want)), list[i].Size, "Dovecot reports CRLF sizes too")
	}
	rc, err := c.Top(ctx, 3, 1)
	assert.Equal(t, "Subject: three\r\n\r\nl1\r\n", readAll(t, rc, err))
	_, err = c.Retr(ctx, 4)
	assert.Error(t, err)
	require.NoError(t, c.Dele(ctx, 2))
	require.NoError(t, c.Noop(ctx))
	require.NoError(t, c.Quit(ctx))

	// SASL mechanisms, over implicit TLS and in cleartext.
	scram, err := auth.NewSCRAMClient("SCRAM-SHA-256", "alice", "secret", nil)
	require.NoError(t, err)
	scram1, err := auth.NewSCRAMClient("SCRAM-SHA-1", "alice", "secret", nil)
	require.NoError(t, err)
	for name, a := range map[string]auth.Client{
		"PLAIN":         auth.NewPlainClient("", "alice", "secret"),
		"LOGIN":         auth.NewLoginClient("alice", "secret"),
		"CRAM-MD5":      auth.NewCRAMMD5Client("alice", "secret"),
		"SCRAM-SHA-256": scram,
		"SCRAM-SHA-1":   scram1,
	} {
		t.Run(name, func(t *testing.T) {
			c, err := DialTLS(ctx, peer.Addr(d.POP3SPort), d.TLS.Client)
			require.NoError(t, err)
			defer c.Close()
			require.NoError(t, c.Auth(ctx, a))
			uids2, err := c.Uidl(ctx)
			require.NoError(t, err)
			require.Len(t, uids2, 2, "the deletion took effect")
			assert.Equal(t, uids[0].UID, uids2[0].UID, "UIDL stable")
			assert.Equal(t, uids[2].UID, uids2[1].UID)
			require.NoError(t, c.Quit(ctx))
		})
	}

	// What an application does: pick the strongest mechanism offered over
	// TLS. Dovecot 2.3 offers no -PLUS, so SCRAM-SHA-256 goes with the GS2
	// flag "y" (RFC 5802 §6), which Dovecot must accept.
	t.Run("chosen over TLS", func(t *testing.T) {
		c, err := DialTLS(ctx, peer.Addr(d.POP3SPort), d.TLS.Client)
		require.NoError(t, err)
		defer c.Close()
		caps, err := c.Capa(ctx)
		require.NoError(t, err)
		cs := c.Conn().(*tls.Conn).ConnectionState()
		mech := auth.ChooseMechanism(caps["SASL"], &cs)
		require.Equal(t, "SCRAM-SHA-256", mech, "offered %v", caps["SASL"])
		a, err := auth.NewClient(mech, "alice", "secret", &cs)
		require.NoError(t, err)
		require.NoError(t, c.Auth(ctx, a))
		require.NoError(t, c.Quit(ctx))
	})
}

// dovecotCtx bounds a whole Dovecot test: several sessions, each of which a
// loaded machine can slow to seconds (Dovecot's login process waits up to
// 5 s on its anvil process).
func dovecotCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

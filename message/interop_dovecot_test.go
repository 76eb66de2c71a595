package message

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailwire/mailwire/internal/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInteropDovecotReads stores a message written by Writer in a Maildir
// and asks Dovecot's own parser about it: the IMAP ENVELOPE it builds, and
// searches on decoded header text.
func TestInteropDovecotReads(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Dovecot")
	}
	d := peer.StartDovecot(t, peer.DovecotOptions{Protocols: []string{"imap"}})

	var h Header
	h.Add("From", "André Pirard <andre@example.com>")
	h.Add("To", `"Smith, Mary" <mary@example.net>, Team: ann@example.org, bob@example.org;`)
	h.Add("Subject", "Grüße aus Köln, a subject long enough that the writer has to fold it")
	h.Add("Date", FormatDate(time.Date(2003, 7, 1, 10, 52, 37, 0, time.FixedZone("", 7200))))
	h.Add("Message-ID", "<interop.1@example.com>")
	h.Add("In-Reply-To", "<parent@example.com>")
	var msg bytes.Buffer
	w, err := NewWriter(&msg, &h, nil)
	require.NoError(t, err)
	io.WriteString(w, "Hello\n")
	require.NoError(t, w.Close())

	dir := d.MailDir("user")
	for _, sub := range []string{"new", "cur", "tmp"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, sub), 0o700))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "new", "1.mailwire"), msg.Bytes(), 0o600))
	d.Chown(t)

	env := d.Doveadm(t, "fetch", "-u", "user", "imap.envelope", "all")
	assert.Contains(t, env, `"Tue, 1 Jul 2003 10:52:37 +0200"`)
	assert.Contains(t, env, `"andre" "example.com"`)
	assert.Contains(t, env, `("Smith, Mary" NIL "mary" "example.net")`)
	// The group is an IMAP group: a NIL-host start and end marker.
	assert.Contains(t, env, `(NIL NIL "Team" NIL)`)
	assert.Contains(t, env, `(NIL NIL "ann" "example.org")`)
	assert.Contains(t, env, `"<parent@example.com>"`)
	assert.Contains(t, env, `"<interop.1@example.com>"`)

	// Dovecot decodes the encoded words when searching.
	out := d.Doveadm(t, "search", "-u", "user", "mailbox", "INBOX", "subject", "Grüße aus Köln")
	assert.NotEmpty(t, strings.TrimSpace(out), "subject search found nothing")
	out = d.Doveadm(t, "search", "-u", "user", "mailbox", "INBOX", "from", "André")
	assert.NotEmpty(t, strings.TrimSpace(out), "from search found nothing")
}

// TestInteropDovecotHeaderRoundTrip reads the header of a stored message
// (trace fields, raw UTF-8) as Dovecot hands it back.
func TestInteropDovecotHeaderRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Dovecot")
	}
	d := peer.StartDovecot(t, peer.DovecotOptions{Protocols: []string{"imap"}})
	raw := "Return-Path: <bounce@example.com>\r\n" +
		"Received: from a.example (a.example [192.0.2.1])\r\n\tby b.example with ESMTPS id 123\r\n\tfor <user@example.test>; Tue, 1 Jul 2003 10:52:37 +0200\r\n" +
		"From: Jöran <joran@example.com>\r\n" +
		"Subject: raw UTF-8 subject, grüße\r\n" +
		"Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n" +
		"\r\nbody\r\n"
	dir := d.MailDir("user")
	for _, sub := range []string{"new", "cur", "tmp"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, sub), 0o700))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "new", "1.mailwire"), []byte(raw), 0o600))
	d.Chown(t)
	// Dovecot hands the header back as stored; we read it identically.
	out := d.Doveadm(t, "fetch", "-u", "user", "hdr", "all")
	i := strings.Index(out, "Return-Path:")
	require.GreaterOrEqual(t, i, 0, out)
	m, err := Read(strings.NewReader(out[i:]))
	require.NoError(t, err)
	r, err := ParseReceived(m.Header.Get("Received"))
	require.NoError(t, err)
	assert.Equal(t, "a.example", r.From)
	assert.Equal(t, "user@example.test", r.For)
	rp, err := ParseReturnPath(m.Header.Get("Return-Path"))
	require.NoError(t, err)
	assert.Equal(t, "bounce@example.com", rp)
	from, err := ParseAddressList(m.Header.Get("From"))
	require.NoError(t, err)
	assert.Equal(t, []*Address{mb("Jöran", "joran@example.com")}, from)
	assert.Equal(t, "raw UTF-8 subject, grüße", m.Header.Get("Subject"))
}

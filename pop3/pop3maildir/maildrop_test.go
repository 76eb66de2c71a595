package pop3maildir

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailwire/mailwire/message/maildir"
	"github.com/mailwire/mailwire/pop3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	msg1 = "From: a@example.org\r\nSubject: one\r\n\r\nHello\r\n.dotted line\r\n"
	msg2 = "From: b@example.org\nSubject: two\n\nbare LF body\n.\nend\n"
)

func fillMaildir(t testing.TB, msgs ...string) *maildir.Dir {
	t.Helper()
	d, err := maildir.Create(filepath.Join(t.TempDir(), "Maildir"))
	require.NoError(t, err)
	for _, m := range msgs {
		_, err := d.Deliver(strings.NewReader(m))
		require.NoError(t, err)
	}
	return d
}

func TestMaildrop(t *testing.T) {
	ctx := context.Background()
	d := fillMaildir(t, msg1, msg2, "no final newline")
	drop, err := Open(d)
	require.NoError(t, err)

	// Exclusive: a second session gets IN-USE.
	_, err = Open(d)
	assert.ErrorIs(t, err, pop3.ErrInUse)
	assert.ErrorIs(t, err, maildir.ErrLocked)
	var pe *pop3.Error
	require.ErrorAs(t, err, &pe, "the server finds the reply to send")
	assert.Equal(t, pop3.ErrInUse, pe)

	msgs, err := drop.Messages(ctx)
	require.NoError(t, err)
	require.Len(t, msgs, 3)
	assert.Equal(t, int64(58), msgs[0].Size)
	assert.Equal(t, int64(59), msgs[1].Size, "bare LF counted as CRLF")
	assert.Equal(t, int64(16), msgs[2].Size, "nothing added for a last line without a line end")
	uids := map[string]bool{}
	for _, m := range msgs {
		assert.Regexp(t, `^[0-9A-F]{16}$`, m.UID)
		uids[m.UID] = true
	}
	assert.Len(t, uids, 3)
	validity, _, err := d.UIDValidity()
	require.NoError(t, err)
	list, err := d.List()
	require.NoError(t, err)
	for i, m := range msgs {
		assert.Equal(t, list[i].UID, parseHex(t, m.UID[:8]), "UID then UIDVALIDITY")
		assert.Equal(t, validity, parseHex(t, m.UID[8:]))
	}

	for i, want := range []string{msg1, msg2, "no final newline"} {
		rc, err := drop.Open(ctx, i)
		require.NoError(t, err)
		b, err := io.ReadAll(rc)
		require.NoError(t, err)
		require.NoError(t, rc.Close())
		assert.Equal(t, want, string(b))
	}
	_, err = drop.Open(ctx, 3)
	assert.Error(t, err)

	require.NoError(t, drop.Delete(ctx, []int{0, 2}))
	require.NoError(t, drop.Close())

	drop, err = Open(d)
	require.NoError(t, err, "Close released the lock")
	defer drop.Close()
	again, err := drop.Messages(ctx)
	require.NoError(t, err)
	require.Len(t, again, 1)
	assert.Equal(t, msgs[1], again[0], "UIDs are stable across sessions")
}

func parseHex(t *testing.T, s string) uint32 {
	t.Helper()
	var v uint32
	for _, c := range s {
		v <<= 4
		switch {
		case '0' <= c && c <= '9':
			v |= uint32(c - '0')
		case 'A' <= c && c <= 'F':
			v |= uint32(c-'A') + 10
		default:
			t.Fatalf("not upper-case hex: %q", s)
		}
	}
	return v
}

func TestMaildropSizes(t *testing.T) {
	// Dovecot's ",W=" field gives the size without reading the file; names
	// without it (older deliveries, other programs) are counted once and
	// cached in the Maildir.
	d := fillMaildir(t)
	require.NoError(t, os.WriteFile(filepath.Join(d.Path(), "cur", "1700000000.M1P1.test,S=5,W=12345:2,S"), []byte("x\ny\n\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(d.Path(), "cur", "1700000001.M1P1.test:2,S"), []byte("a\nb\r\nc\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(d.Path(), "new", "1700000002.M2P1.test"), []byte("x\n"), 0o600))
	sizes := func() []int64 {
		drop, err := Open(d)
		require.NoError(t, err)
		defer drop.Close()
		msgs, err := drop.Messages(context.Background())
		require.NoError(t, err)
		var out []int64
		for _, m := range msgs {
			out = append(out, m.Size)
		}
		return out
	}
	assert.Equal(t, []int64{12345, 9, 3}, sizes())
	cache := filepath.Join(d.Path(), maildir.WireSizeCacheFile)
	require.FileExists(t, cache)
	// The cache is believed (here, falsely, to show it is used).
	require.NoError(t, os.WriteFile(cache, []byte("1700000001.M1P1.test 99\n"), 0o600))
	assert.Equal(t, []int64{12345, 99, 3}, sizes())
}

func TestMaildropCancelled(t *testing.T) {
	// Counting sizes stops when the session's context ends.
	d := fillMaildir(t)
	require.NoError(t, os.WriteFile(filepath.Join(d.Path(), "new", "1700000002.M2P1.test"), []byte("x\n"), 0o600))
	drop, err := Open(d)
	require.NoError(t, err)
	defer drop.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = drop.Messages(ctx)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestMaildropConcurrentChanges(t *testing.T) {
	// Another program (an IMAP server, a Dovecot) changes the Maildir
	// during the session: POP3 does not stop it.
	ctx := context.Background()
	d := fillMaildir(t, msg1, msg2, "third\n")
	drop, err := Open(d)
	require.NoError(t, err)
	defer drop.Close()
	msgs, err := drop.Messages(ctx)
	require.NoError(t, err)
	require.Len(t, msgs, 3)
	list, err := d.List()
	require.NoError(t, err)

	// Message 0 moves to cur with a flag: Open still finds it by key.
	require.NoError(t, d.SetFlags(list[0].Key, "S"))
	rc, err := drop.Open(ctx, 0)
	require.NoError(t, err)
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	rc.Close()
	assert.Equal(t, msg1, string(b))

	// Message 1 is removed: Open fails, Delete does not mind.
	require.NoError(t, d.Remove(list[1].Key))
	_, err = drop.Open(ctx, 1)
	assert.ErrorIs(t, err, os.ErrNotExist)

	// A delivery during the session waits for the next one.
	_, err = d.Deliver(strings.NewReader("late\n"))
	require.NoError(t, err)

	require.NoError(t, drop.Delete(ctx, []int{1, 2}))
	after, err := d.List()
	require.NoError(t, err)
	require.Len(t, after, 2)
	assert.Equal(t, list[0].Key, after[0].Key)
	assert.Error(t, drop.Delete(ctx, []int{7}), "an index out of range")
}

func TestMaildropCloseTwice(t *testing.T) {
	d := fillMaildir(t)
	drop, err := Open(d)
	require.NoError(t, err)
	require.NoError(t, drop.Close())
	require.NoError(t, drop.Close())
}

func TestOpenError(t *testing.T) {
	// A Maildir whose directory went away: not ErrInUse.
	d := fillMaildir(t)
	require.NoError(t, os.RemoveAll(d.Path()))
	_, err := Open(d)
	require.Error(t, err)
	assert.False(t, errors.Is(err, pop3.ErrInUse))
}

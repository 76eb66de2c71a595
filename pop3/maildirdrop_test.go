package pop3

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/message/maildir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// maildirBackend serves each user's Maildir at root/USER.
type maildirBackend struct {
	root  string
	creds *auth.MemoryStore
}

func (b *maildirBackend) NewSession(c *Conn) (Session, error) {
	return passwordBackend(b.Authenticate, b.OpenMaildrop).NewSession(c)
}

func (b *maildirBackend) Authenticate(ctx context.Context, user, pass string) error {
	return b.creds.CheckPassword(context.Background(), user, pass)
}

func (b *maildirBackend) OpenMaildrop(ctx context.Context, user string) (Maildrop, error) {
	if strings.ContainsAny(user, "/\\") || user == "" || user[0] == '.' {
		return nil, auth.ErrAuthFailed
	}
	d, err := maildir.Open(filepath.Join(b.root, user))
	if err != nil {
		return nil, err
	}
	return OpenMaildir(d)
}

func fillMaildir(t testing.TB, path string, msgs ...string) *maildir.Dir {
	t.Helper()
	d, err := maildir.Create(path)
	require.NoError(t, err)
	for _, m := range msgs {
		_, err := d.Deliver(strings.NewReader(m))
		require.NoError(t, err)
	}
	return d
}

func TestMaildirDrop(t *testing.T) {
	ctx := context.Background()
	d := fillMaildir(t, filepath.Join(t.TempDir(), "Maildir"), msg1, msg2, "no final newline")
	drop, err := OpenMaildir(d)
	require.NoError(t, err)

	// Exclusive: a second session gets IN-USE.
	_, err = OpenMaildir(d)
	assert.ErrorIs(t, err, ErrInUse)

	msgs, err := drop.Messages(ctx)
	require.NoError(t, err)
	require.Len(t, msgs, 3)
	assert.Equal(t, int64(58), msgs[0].Size)
	assert.Equal(t, int64(59), msgs[1].Size, "bare LF counted as CRLF")
	assert.Equal(t, int64(16), msgs[2].Size)
	uids := map[string]bool{}
	for _, m := range msgs {
		assert.Len(t, m.UID, 16)
		uids[m.UID] = true
	}
	assert.Len(t, uids, 3)

	rc, err := drop.Open(ctx, 1)
	require.NoError(t, err)
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	assert.Equal(t, msg2, string(b))

	require.NoError(t, drop.Delete(ctx, []int{0, 2}))
	require.NoError(t, drop.Close())

	drop, err = OpenMaildir(d)
	require.NoError(t, err)
	defer drop.Close()
	again, err := drop.Messages(ctx)
	require.NoError(t, err)
	require.Len(t, again, 1)
	assert.Equal(t, msgs[1], again[0], "UIDs are stable across sessions")
}

func TestMaildirDropSizeCache(t *testing.T) {
	// Names without ",W=" (older deliveries, other programs): the size is
	// counted once and cached.
	d := fillMaildir(t, filepath.Join(t.TempDir(), "Maildir"))
	require.NoError(t, os.WriteFile(filepath.Join(d.Path(), "cur", "1700000000.M1P1.test:2,S"), []byte("a\nb\r\nc\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(d.Path(), "new", "1700000001.M2P1.test"), []byte("x\n"), 0o600))
	ctx := context.Background()
	sizes := func() []int64 {
		drop, err := OpenMaildir(d)
		require.NoError(t, err)
		defer drop.Close()
		msgs, err := drop.Messages(ctx)
		require.NoError(t, err)
		var out []int64
		for _, m := range msgs {
			out = append(out, m.Size)
		}
		return out
	}
	assert.Equal(t, []int64{9, 3}, sizes())
	cache, err := os.ReadFile(filepath.Join(d.Path(), MaildirSizeCache))
	require.NoError(t, err)
	assert.Equal(t, "1700000000.M1P1.test 9\n1700000001.M2P1.test 3\n", string(cache))
	// The cache is believed (here, falsely, to show it is used).
	require.NoError(t, os.WriteFile(filepath.Join(d.Path(), MaildirSizeCache), []byte("1700000000.M1P1.test 99\ngarbage\n"), 0o600))
	assert.Equal(t, []int64{99, 3}, sizes())
}

func TestMaildirDropWSize(t *testing.T) {
	// Dovecot's ",W=" field gives the CRLF size without reading the file.
	d := fillMaildir(t, filepath.Join(t.TempDir(), "Maildir"))
	name := "1700000000.M1P1.test,S=5,W=12345:2,S"
	require.NoError(t, os.WriteFile(filepath.Join(d.Path(), "cur", name), []byte("x\ny\n\n"), 0o600))
	drop, err := OpenMaildir(d)
	require.NoError(t, err)
	defer drop.Close()
	msgs, err := drop.Messages(context.Background())
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	assert.Equal(t, int64(12345), msgs[0].Size)
}

func TestServerOverMaildir(t *testing.T) {
	root := t.TempDir()
	fillMaildir(t, filepath.Join(root, "alice"), msg1, msg2, msg3)
	creds := auth.NewMemoryStore()
	require.NoError(t, creds.SetPassword("alice", "secret"))
	addr := startServer(t, &Server{Backend: &maildirBackend{root: root, creds: creds}, AllowInsecureAuth: true})

	w, _ := dialWire(t, addr)
	w.login("alice", "secret")
	assert.Equal(t, "+OK 3 147", w.cmd("STAT"))
	w2, _ := dialWire(t, addr)
	w2.cmd("USER alice")
	assert.Equal(t, "-ERR [IN-USE] maildrop already locked", w2.cmd("PASS secret"))
	assert.Equal(t, "+OK 59 octets", w.cmd("RETR 2"))
	assert.Equal(t, []string{"From: b@example.org", "Subject: two", "", "bare LF body", "..", "end"}, w.multi())
	w.cmd("DELE 2")
	assert.Equal(t, "+OK bye (2 messages left)", w.cmd("QUIT"))
	assert.True(t, w.closed())

	w2.login("alice", "secret")
	assert.Equal(t, "+OK 2 88", w2.cmd("STAT"))
}

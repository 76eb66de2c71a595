package maildir

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newDir(t *testing.T) *Dir {
	t.Helper()
	d, err := Create(filepath.Join(t.TempDir(), "Maildir"))
	require.NoError(t, err)
	return d
}

func readAll(t *testing.T, d *Dir, key string) string {
	t.Helper()
	f, err := d.Open(key)
	require.NoError(t, err)
	defer f.Close()
	b, err := io.ReadAll(f)
	require.NoError(t, err)
	return string(b)
}

func TestCreateOpen(t *testing.T) {
	root := filepath.Join(t.TempDir(), "a", "Maildir")
	_, err := Open(root)
	require.ErrorIs(t, err, fs.ErrNotExist)
	d, err := Create(root)
	require.NoError(t, err)
	for _, s := range []string{"tmp", "new", "cur"} {
		fi, err := os.Stat(filepath.Join(root, s))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	}
	_, err = Create(root) // idempotent
	require.NoError(t, err)
	assert.Equal(t, root, d.Path())
}

func TestDeliverListOpen(t *testing.T) {
	d := newDir(t)
	d.Hostname = "mx/1:2,3"
	msgs := []string{"Subject: one\n\nbody one\n", "Subject: two\r\n\r\nCRLF kept\r\n", ""}
	var keys []string
	for _, m := range msgs {
		k, err := d.Deliver(strings.NewReader(m))
		require.NoError(t, err)
		keys = append(keys, k)
		assert.Contains(t, k, `.mx\0571\0722\0543,S=`)
		wireSize := len(strings.ReplaceAll(strings.ReplaceAll(m, "\r\n", "\n"), "\n", "\r\n"))
		assert.True(t, strings.HasSuffix(k, fmt.Sprintf(",S=%d,W=%d", len(m), wireSize)), k)
	}
	tmp, err := os.ReadDir(filepath.Join(d.Path(), "tmp"))
	require.NoError(t, err)
	assert.Empty(t, tmp, "tmp must be empty after deliveries")

	list, err := d.List()
	require.NoError(t, err)
	require.Len(t, list, 3)
	for i, m := range list {
		assert.Equal(t, keys[i], m.Key)
		assert.Equal(t, uint32(i+1), m.UID)
		assert.Equal(t, int64(len(msgs[i])), m.Size)
		assert.Equal(t, int64(len(strings.ReplaceAll(strings.ReplaceAll(msgs[i], "\r\n", "\n"), "\n", "\r\n"))), m.WireSize)
		assert.True(t, m.New)
		assert.Equal(t, Flags(""), m.Flags)
		assert.WithinDuration(t, time.Now(), m.Date, time.Minute)
		assert.Equal(t, "new/"+keys[i], m.File)
		assert.Equal(t, msgs[i], readAll(t, d, m.Key))
	}
}

func TestFlagsAndUIDsAreStable(t *testing.T) {
	d := newDir(t)
	k1, err := d.Deliver(strings.NewReader("a\n"))
	require.NoError(t, err)
	k2, err := d.Deliver(strings.NewReader("b\n"))
	require.NoError(t, err)
	v1, next, err := d.UIDValidity()
	require.NoError(t, err)
	assert.NotZero(t, v1)
	assert.Equal(t, uint32(3), next)

	require.NoError(t, d.MoveToCur(k1))
	require.NoError(t, d.SetFlags(k2, NewFlags(FlagSeen, FlagFlagged)))
	fl, err := d.Flags(k2)
	require.NoError(t, err)
	assert.Equal(t, Flags("FS"), fl)
	_, err = os.Stat(filepath.Join(d.Path(), "cur", k1+":2,"))
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(d.Path(), "cur", k2+":2,FS"))
	require.NoError(t, err)

	// A keyword letter written by another program is kept when we add a flag
	// starting from the current flags.
	require.NoError(t, os.Rename(filepath.Join(d.Path(), "cur", k2+":2,FS"), filepath.Join(d.Path(), "cur", k2+":2,FSa")))
	fl, err = d.Flags(k2)
	require.NoError(t, err)
	require.NoError(t, d.SetFlags(k2, fl.With(FlagReplied).Without(FlagFlagged)))
	_, err = os.Stat(filepath.Join(d.Path(), "cur", k2+":2,RSa"))
	require.NoError(t, err)

	// A new Dir value (another process, a restart) sees the same UIDs.
	d2, err := Open(d.Path())
	require.NoError(t, err)
	k3, err := d2.Deliver(strings.NewReader("c\n"))
	require.NoError(t, err)
	list, err := d2.List()
	require.NoError(t, err)
	require.Len(t, list, 3)
	assert.Equal(t, []uint32{1, 2, 3}, []uint32{list[0].UID, list[1].UID, list[2].UID})
	assert.Equal(t, []string{k1, k2, k3}, []string{list[0].Key, list[1].Key, list[2].Key})
	assert.Equal(t, Flags("RSa"), list[1].Flags)
	assert.False(t, list[1].New)
	assert.True(t, list[2].New)

	// Removing a message never frees its UID.
	require.NoError(t, d.Remove(k2))
	k4, err := d.Deliver(strings.NewReader("d\n"))
	require.NoError(t, err)
	list, err = d.List()
	require.NoError(t, err)
	require.Len(t, list, 3)
	assert.Equal(t, k4, list[2].Key)
	assert.Equal(t, uint32(4), list[2].UID)
	v2, next, err := d.UIDValidity()
	require.NoError(t, err)
	assert.Equal(t, v1, v2)
	assert.Equal(t, uint32(5), next)

	_, err = d.Open(k2)
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.ErrorIs(t, d.Remove(k2), fs.ErrNotExist)
	require.ErrorIs(t, d.SetFlags(k2, "S"), fs.ErrNotExist)
	require.ErrorIs(t, d.SetFlags("../x", "S"), ErrBadKey)
}

func TestUIDListLostGetsNewValidity(t *testing.T) {
	d := newDir(t)
	_, err := d.Deliver(strings.NewReader("a\n"))
	require.NoError(t, err)
	v1, _, err := d.UIDValidity()
	require.NoError(t, err)
	defer func(f func() time.Time) { validityClock = f }(validityClock)
	validityClock = func() time.Time { return time.Unix(int64(v1)+10, 0) }
	for _, content := range []string{"garbage\n", "mailwire-uidlist 1 0 5\n", "mailwire-uidlist 1 7 2\n5 key\n"} {
		require.NoError(t, os.WriteFile(filepath.Join(d.Path(), uidListFile), []byte(content), 0o600))
		v2, next, err := d.UIDValidity()
		require.NoError(t, err)
		assert.Equal(t, v1+10, v2, content)
		assert.Equal(t, uint32(2), next)
	}
}

func TestMoveNewToCur(t *testing.T) {
	d := newDir(t)
	var want []string
	for i := 0; i < 3; i++ {
		k, err := d.Deliver(strings.NewReader("x\n"))
		require.NoError(t, err)
		want = append(want, k)
	}
	moved, err := d.MoveNewToCur()
	require.NoError(t, err)
	assert.ElementsMatch(t, want, moved)
	list, err := d.List()
	require.NoError(t, err)
	for _, m := range list {
		assert.False(t, m.New)
	}
	moved, err = d.MoveNewToCur()
	require.NoError(t, err)
	assert.Empty(t, moved)
}

func TestAppend(t *testing.T) {
	d := newDir(t)
	date := time.Date(2024, 2, 29, 12, 30, 0, 0, time.UTC)
	k, err := d.Append(strings.NewReader("Subject: x\n\ny\n"), "TSD", date)
	require.NoError(t, err)
	list, err := d.List()
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, k, list[0].Key)
	assert.Equal(t, Flags("DST"), list[0].Flags)
	assert.True(t, list[0].Date.Equal(date), list[0].Date)
	assert.False(t, list[0].New)

	// A date past 2262 does not fit in int64 nanoseconds; it must still
	// be stored as given (an imported mbox may carry any year).
	far := time.Date(2300, 1, 2, 3, 4, 5, 0, time.UTC)
	k, err = d.Append(strings.NewReader("Subject: far\n\n"), "", far)
	require.NoError(t, err)
	f, err := d.Open(k)
	require.NoError(t, err)
	fi, err := f.Stat()
	f.Close()
	require.NoError(t, err)
	assert.True(t, fi.ModTime().Equal(far), fi.ModTime())
}

func TestMaxMessageSize(t *testing.T) {
	d := newDir(t)
	d.MaxMessageSize = 10
	_, err := d.Deliver(strings.NewReader("0123456789"))
	require.NoError(t, err)
	_, err = d.Deliver(strings.NewReader("0123456789A"))
	require.ErrorIs(t, err, ErrTooLarge)
	d.MaxMessageSize = -1
	_, err = d.Deliver(bytes.NewReader(make([]byte, 1000)))
	require.NoError(t, err)
	list, err := d.List()
	require.NoError(t, err)
	assert.Len(t, list, 2)
	tmp, _ := os.ReadDir(filepath.Join(d.Path(), "tmp"))
	assert.Empty(t, tmp)
}

type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, errors.New("connection lost")
	}
	r.n--
	return copy(p, "partial data\n"), nil
}

func TestDeliverReaderErrorLeavesNothing(t *testing.T) {
	d := newDir(t)
	_, err := d.Deliver(&failingReader{n: 3})
	require.ErrorContains(t, err, "connection lost")
	for _, s := range []string{"tmp", "new", "cur"} {
		ents, err := os.ReadDir(filepath.Join(d.Path(), s))
		require.NoError(t, err)
		assert.Empty(t, ents, s)
	}
}

func TestCleanTmp(t *testing.T) {
	d := newDir(t)
	old := filepath.Join(d.Path(), "tmp", "old")
	young := filepath.Join(d.Path(), "tmp", "young")
	oldDir := filepath.Join(d.Path(), "tmp", "x.deleted")
	require.NoError(t, os.WriteFile(old, []byte("partial"), 0o600))
	require.NoError(t, os.WriteFile(young, []byte("in progress"), 0o600))
	require.NoError(t, os.MkdirAll(filepath.Join(oldDir, "cur"), 0o700))
	past := time.Now().Add(-DefaultTmpAge - time.Hour)
	require.NoError(t, os.Chtimes(old, past, past))
	require.NoError(t, os.Chtimes(oldDir, past, past))
	n, err := d.CleanTmp(0)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.NoFileExists(t, old)
	assert.NoDirExists(t, oldDir)
	assert.FileExists(t, young)
	require.NoError(t, os.Chtimes(young, time.Now().Add(-2*time.Hour), time.Now().Add(-2*time.Hour)))
	n, err = d.CleanTmp(time.Hour)
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	// Temporary files of the UID list or the size cache left beside tmp,
	// new and cur by a process that died: the old one goes, the rest stays.
	stale := filepath.Join(d.Path(), ".mailwire-uidlist.tmp123")
	fresh := filepath.Join(d.Path(), ".mailwire-wiresizes.tmp456")
	foreign := filepath.Join(d.Path(), ".other.tmp1")
	for _, p := range []string{stale, fresh, foreign} {
		require.NoError(t, os.WriteFile(p, []byte("partial"), 0o600))
	}
	require.NoError(t, os.Chtimes(stale, past, past))
	require.NoError(t, os.Chtimes(foreign, past, past))
	n, err = d.CleanTmp(0)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.NoFileExists(t, stale)
	assert.FileExists(t, fresh)
	assert.FileExists(t, foreign)
}

func TestListSkipsForeignFiles(t *testing.T) {
	d := newDir(t)
	for _, n := range []string{".hidden", "dovecot-uidlist"} {
		require.NoError(t, os.WriteFile(filepath.Join(d.Path(), "cur", n), nil, 0o600))
	}
	require.NoError(t, os.WriteFile(filepath.Join(d.Path(), "cur", "123.foreign:2,S"), []byte("abc"), 0o600))
	list, err := d.List()
	require.NoError(t, err)
	require.Len(t, list, 2)
	var keys []string
	for _, m := range list {
		keys = append(keys, m.Key)
	}
	assert.ElementsMatch(t, []string{"dovecot-uidlist", "123.foreign"}, keys)
	for _, m := range list {
		if m.Key == "123.foreign" {
			assert.Equal(t, int64(3), m.Size, "size from stat without S=")
			assert.Equal(t, Flags("S"), m.Flags)
		}
	}
}

func TestConcurrentDeliveriesAndReaders(t *testing.T) {
	d := newDir(t)
	const writers, each = 4, 25
	var wg sync.WaitGroup
	keys := make(chan string, writers*each)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			dd, err := Open(d.Path()) // separate values, as separate processes
			if !assert.NoError(t, err) {
				return
			}
			for i := 0; i < each; i++ {
				k, err := dd.Deliver(strings.NewReader(fmt.Sprintf("w%d m%d\n", w, i)))
				if !assert.NoError(t, err) {
					return
				}
				keys <- k
			}
		}(w)
	}
	done := make(chan struct{})
	seen := map[string]uint32{}
	var readerErr error
	go func() {
		defer close(done)
		r, _ := Open(d.Path())
		for i := 0; i < 20; i++ {
			list, err := r.List()
			if err != nil {
				readerErr = err
				return
			}
			for _, m := range list {
				if uid, ok := seen[m.Key]; ok && uid != m.UID {
					readerErr = fmt.Errorf("UID of %s changed %d -> %d", m.Key, uid, m.UID)
					return
				}
				seen[m.Key] = m.UID
				if m.New && i%2 == 0 {
					if err := r.SetFlags(m.Key, "S"); err != nil {
						readerErr = err
						return
					}
				}
			}
		}
	}()
	wg.Wait()
	<-done
	close(keys)
	require.NoError(t, readerErr)
	list, err := d.List()
	require.NoError(t, err)
	assert.Len(t, list, writers*each)
	uids := map[uint32]bool{}
	for _, m := range list {
		assert.False(t, uids[m.UID], "duplicate UID")
		uids[m.UID] = true
		if uid, ok := seen[m.Key]; ok {
			assert.Equal(t, uid, m.UID)
		}
	}
	for k := range keys {
		_, err := d.Open(k)
		require.NoError(t, err)
	}
}

// Dovecot renames a \Recent message in place in new when its flags change.
func TestFlagsOnFileInNew(t *testing.T) {
	d := newDir(t)
	k, err := d.Deliver(strings.NewReader("x\n"))
	require.NoError(t, err)
	require.NoError(t, os.Rename(filepath.Join(d.Path(), "new", k), filepath.Join(d.Path(), "new", k+":2,Sa")))
	list, err := d.List()
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, Flags("Sa"), list[0].Flags)
	assert.True(t, list[0].New)
	assert.Equal(t, uint32(1), list[0].UID)
	fl, err := d.Flags(k)
	require.NoError(t, err)
	require.NoError(t, d.SetFlags(k, fl.With(FlagFlagged)))
	assert.FileExists(t, filepath.Join(d.Path(), "cur", k+":2,FSa"))
	list, err = d.List()
	require.NoError(t, err)
	assert.Equal(t, uint32(1), list[0].UID)
}

// Keys come from clients (IMAP, POP3 UIDL mappings): none may reach a file
// outside new and cur.
func TestBadKeysRejected(t *testing.T) {
	d := newDir(t)
	other := newDir(t)
	secret := filepath.Join(d.Path(), "secret")
	require.NoError(t, os.WriteFile(secret, []byte("x"), 0o600))
	for _, key := range []string{"", "../secret", "../../etc/passwd", "a/b", ".hidden", "..", "a\x00b", "k:2,S", "/abs"} {
		_, err := d.Open(key)
		assert.ErrorIs(t, err, ErrBadKey, "Open %q", key)
		_, err = d.Flags(key)
		assert.ErrorIs(t, err, ErrBadKey, "Flags %q", key)
		assert.ErrorIs(t, d.SetFlags(key, "S"), ErrBadKey, "SetFlags %q", key)
		assert.ErrorIs(t, d.MoveToCur(key), ErrBadKey, "MoveToCur %q", key)
		assert.ErrorIs(t, d.Remove(key), ErrBadKey, "Remove %q", key)
		assert.ErrorIs(t, d.Move(key, other), ErrBadKey, "Move %q", key)
		_, err = d.Copy(key, other)
		assert.ErrorIs(t, err, ErrBadKey, "Copy %q", key)
	}
	assert.FileExists(t, secret)
	list, err := other.List()
	require.NoError(t, err)
	assert.Empty(t, list)
}

package pop3

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/mailwire/mailwire/message/maildir"
)

// MaildirLockFile is the file in a Maildir on which OpenMaildir holds an
// exclusive flock(2) for the length of a POP3 session.
const MaildirLockFile = "mailwire-pop3.lock"

// MaildirDrop is a Maildrop over a Maildir (package message/maildir): the
// messages in new and cur, in the Maildir's UID order.
type MaildirDrop struct {
	dir      *maildir.Dir
	lock     *os.File
	msgs     []maildir.Message
	validity uint32
}

// OpenMaildir locks the Maildir d for a POP3 session and returns it as a
// Maildrop. The lock is an exclusive, non-blocking flock(2) on
// MaildirLockFile, so a second session, in this process or another using
// this package, gets ErrInUse (RFC 1939 §4). Other programs that read the
// same Maildir (Dovecot, an IMAP server) do not take it.
func OpenMaildir(d *maildir.Dir) (*MaildirDrop, error) {
	f, err := os.OpenFile(filepath.Join(d.Path(), MaildirLockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("pop3: maildrop lock: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrInUse
		}
		return nil, fmt.Errorf("pop3: maildrop lock: %w", err)
	}
	return &MaildirDrop{dir: d, lock: f}, nil
}

// Messages lists the Maildir. A message's size is its size with CRLF line
// ends: the ",W=" field of its file name when present (Dovecot writes it),
// else counted by reading the file once and remembered in MaildirSizeCache.
// Its UID is the Maildir UID and the UIDVALIDITY in hexadecimal (as
// Dovecot's default pop3_uidl_format), so UIDs never repeat even if the
// Maildir's UID list is lost and rebuilt.
func (m *MaildirDrop) Messages(ctx context.Context) ([]Message, error) {
	validity, _, err := m.dir.UIDValidity()
	if err != nil {
		return nil, err
	}
	msgs, err := m.dir.List()
	if err != nil {
		return nil, err
	}
	m.msgs, m.validity = msgs, validity
	cache := m.readSizeCache(len(msgs))
	used, dirty := 0, false
	out := make([]Message, len(msgs))
	for i, msg := range msgs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		size := int64(-1)
		if n, err := maildir.ParseName(filepath.Base(msg.File)); err == nil {
			size = n.VSize
		}
		if size < 0 {
			if s, ok := cache[msg.Key]; ok {
				size = s
				used++
			} else {
				if size, err = m.countSize(msg.Key); err != nil {
					return nil, err
				}
				if cacheable(msg.Key) {
					cache[msg.Key] = size
					used++
					dirty = true
				}
			}
		}
		out[i] = Message{Size: size, UID: fmt.Sprintf("%08X%08X", msg.UID, validity)}
	}
	if dirty || used < len(cache) {
		m.writeSizeCache(msgs, cache)
	}
	return out, nil
}

// MaildirSizeCache is the file in a Maildir where OpenMaildir's Maildrop
// remembers the CRLF sizes of messages whose names carry no ",W=" field, so
// that each message is read only once to learn it. It is a cache: losing it
// costs time, not correctness.
const MaildirSizeCache = "mailwire-pop3-sizes"

func cacheable(key string) bool { return !strings.ContainsAny(key, " \r\n") }

// readSizeCache loads the size cache; entries are "KEY SIZE" lines. A
// missing or damaged file yields what could be read.
func (m *MaildirDrop) readSizeCache(n int) map[string]int64 {
	cache := make(map[string]int64, n)
	f, err := os.Open(filepath.Join(m.dir.Path(), MaildirSizeCache))
	if err != nil {
		return cache
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() && len(cache) <= 2*n+1024 {
		key, size, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		if v, err := strconv.ParseInt(size, 10, 64); err == nil && v >= 0 {
			cache[key] = v
		}
	}
	return cache
}

// writeSizeCache replaces the cache with the entries of the current messages.
// It is written to a temporary file and renamed, so readers never see half of
// it; it is not fsynced, being a cache. Errors are ignored for the same reason.
func (m *MaildirDrop) writeSizeCache(msgs []maildir.Message, cache map[string]int64) {
	path := filepath.Join(m.dir.Path(), MaildirSizeCache)
	tmp, err := os.CreateTemp(m.dir.Path(), MaildirSizeCache+".tmp*")
	if err != nil {
		return
	}
	w := bufio.NewWriter(tmp)
	for _, msg := range msgs {
		if s, ok := cache[msg.Key]; ok {
			w.WriteString(msg.Key)
			w.WriteByte(' ')
			w.WriteString(strconv.FormatInt(s, 10))
			w.WriteByte('\n')
		}
	}
	err = w.Flush()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
}

func (m *MaildirDrop) countSize(key string) (int64, error) {
	f, err := m.dir.Open(key)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return WireSize(f)
}

// Open opens message i.
func (m *MaildirDrop) Open(ctx context.Context, i int) (io.ReadCloser, error) {
	// The file is most likely where List saw it; if another program renamed
	// it since (new to cur, a flag change), look it up by key.
	f, err := os.Open(filepath.Join(m.dir.Path(), m.msgs[i].File))
	if err == nil {
		return f, nil
	}
	return m.dir.Open(m.msgs[i].Key)
}

// Delete removes the messages from the Maildir. It goes on past a failure
// and returns the first error.
func (m *MaildirDrop) Delete(ctx context.Context, indexes []int) error {
	var first error
	for _, i := range indexes {
		if err := m.dir.Remove(m.msgs[i].Key); err != nil && !errors.Is(err, os.ErrNotExist) && first == nil {
			first = err
		}
	}
	return first
}

// Close releases the lock.
func (m *MaildirDrop) Close() error {
	syscall.Flock(int(m.lock.Fd()), syscall.LOCK_UN)
	return m.lock.Close()
}

package pop3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
// else counted by reading the file. Its UID is the Maildir UID and the
// UIDVALIDITY in hexadecimal (as Dovecot's default pop3_uidl_format), so
// UIDs never repeat even if the Maildir's UID list is lost and rebuilt.
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
			if size, err = m.countSize(msg.Key); err != nil {
				return nil, err
			}
		}
		out[i] = Message{Size: size, UID: fmt.Sprintf("%08X%08X", msg.UID, validity)}
	}
	return out, nil
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

package pop3maildir

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/mailwire/mailwire/message/maildir"
	"github.com/mailwire/mailwire/pop3"
)

// Maildrop is a pop3.Maildrop over a Maildir, holding its session lock from
// Open to Close. As pop3.Maildrop says, its methods are called from one
// goroutine.
type Maildrop struct {
	dir  *maildir.Dir
	lock *maildir.Lock
	msgs []maildir.Message
}

var _ pop3.Maildrop = (*Maildrop)(nil)

// Open takes the session lock of the Maildir d without waiting and returns
// it as a maildrop. If another session holds the lock, the error wraps
// pop3.ErrInUse (and maildir.ErrLocked).
func Open(d *maildir.Dir) (*Maildrop, error) {
	l, err := d.TryLock()
	if errors.Is(err, maildir.ErrLocked) {
		return nil, fmt.Errorf("%w: %w", pop3.ErrInUse, err)
	}
	if err != nil {
		return nil, err
	}
	return &Maildrop{dir: d, lock: l}, nil
}

// Messages lists the Maildir in UID order. A message's Size is its
// maildir.Message.WireSize (filled in by maildir.Dir.FillWireSizes for
// names without W=), its UID the Maildir UID and UIDVALIDITY as sixteen
// hexadecimal digits. A message removed by another program while the list
// is made is left out.
func (m *Maildrop) Messages(ctx context.Context) ([]pop3.Message, error) {
	msgs, err := m.dir.List()
	if err != nil {
		return nil, err
	}
	// After List, so that the validity is the one its UIDs belong to
	// even if List had to start the UID list over.
	validity, _, err := m.dir.UIDValidity()
	if err != nil {
		return nil, err
	}
	if err := m.dir.FillWireSizes(ctx, msgs); err != nil {
		return nil, err
	}
	kept := msgs[:0]
	out := make([]pop3.Message, 0, len(msgs))
	for _, msg := range msgs {
		if msg.WireSize < 0 {
			continue // gone since List
		}
		kept = append(kept, msg)
		out = append(out, pop3.Message{Size: msg.WireSize, UID: fmt.Sprintf("%08X%08X", msg.UID, validity)})
	}
	m.msgs = kept
	return out, nil
}

// Open opens message i (an index into what Messages returned).
func (m *Maildrop) Open(ctx context.Context, i int) (io.ReadCloser, error) {
	if i < 0 || i >= len(m.msgs) {
		return nil, fmt.Errorf("pop3maildir: no message %d", i)
	}
	// The file is most likely where List saw it; if another program renamed
	// it since (new to cur, a flag change), look it up by key.
	f, err := os.Open(filepath.Join(m.dir.Path(), filepath.FromSlash(m.msgs[i].File)))
	if err == nil {
		return f, nil
	}
	return m.dir.Open(m.msgs[i].Key)
}

// Delete removes the messages from the Maildir. A message already gone is
// not an error; past any other failure it goes on with the rest and
// returns the first error.
func (m *Maildrop) Delete(ctx context.Context, indexes []int) error {
	var first error
	for _, i := range indexes {
		if i < 0 || i >= len(m.msgs) {
			if first == nil {
				first = fmt.Errorf("pop3maildir: no message %d", i)
			}
			continue
		}
		if err := m.dir.Remove(m.msgs[i].Key); err != nil && !errors.Is(err, fs.ErrNotExist) && first == nil {
			first = err
		}
	}
	return first
}

// Close releases the session lock.
func (m *Maildrop) Close() error { return m.lock.Unlock() }

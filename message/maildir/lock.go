package maildir

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// SessionLockFile is the file in a Maildir (or folder) on which TryLock and
// Lock take the session lock. The name is the one package pop3 used before
// the lock moved here, so that old and new servers exclude each other.
const SessionLockFile = "mailwire-pop3.lock"

// ErrLocked reports that another session holds a Maildir's session lock.
var ErrLocked = errors.New("maildir: locked by another session")

// errWouldBlock is what the platform's lockFile returns when the lock is
// held and the caller asked not to wait.
var errWouldBlock = errors.New("maildir: lock held")

// A Lock is a held session lock on a Maildir: exclusive access for the
// length of a session, as a POP3 server must take on a maildrop (RFC 1939
// §4: "the server then acquires an exclusive-access lock on the
// maildrop"). It excludes other goroutines and other processes that take
// the session lock of the same Maildir through this package. It does not
// stop deliveries, nor this package's own List, Remove and other
// operations, nor programs that do not know of it (a Dovecot, a mutt).
//
// How the lock is held depends on the platform; on each, it goes away with
// the process that held it, so a crash leaves no stale lock:
//
//   - Linux, the BSDs, macOS and illumos: flock(2) on SessionLockFile.
//     These locks belong to the open file, so they exclude the process's
//     own goroutines too.
//   - Windows: LockFileEx on SessionLockFile, which also belongs to the
//     open file handle.
//   - AIX and Solaris, which have no flock: an fcntl(2) write lock, which
//     excludes other processes, plus a table in the process, keyed by the
//     absolute path of the lock file, which excludes its goroutines.
//   - Other platforms (Plan 9, WebAssembly): the table in the process only.
type Lock struct {
	mu sync.Mutex
	h  *heldLock // nil once unlocked
}

// TryLock takes the session lock of d without waiting. If another session
// holds it, it returns an error wrapping ErrLocked.
func (d *Dir) TryLock() (*Lock, error) {
	h, err := lockPath(filepath.Join(d.path, SessionLockFile), false)
	if errors.Is(err, errWouldBlock) {
		return nil, fmt.Errorf("%w: %s", ErrLocked, d.path)
	}
	if err != nil {
		return nil, err
	}
	return &Lock{h: h}, nil
}

// Lock takes the session lock of d, waiting until the session holding it
// releases it or ctx is done.
func (d *Dir) Lock(ctx context.Context) (*Lock, error) {
	wait := 2 * time.Millisecond
	var t *time.Timer
	for {
		l, err := d.TryLock()
		if !errors.Is(err, ErrLocked) {
			return l, err
		}
		// Poll: a blocking lock call could not be interrupted when ctx
		// ends. The holder's Unlock is rare enough for the delay not to
		// matter.
		if t == nil {
			t = time.NewTimer(wait)
			defer t.Stop()
		} else {
			t.Reset(wait)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("maildir: lock %s: %w", d.path, context.Cause(ctx))
		case <-t.C:
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// Unlock releases the lock. Calling it again does nothing.
func (l *Lock) Unlock() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.h == nil {
		return nil
	}
	err := l.h.unlock()
	l.h = nil
	return err
}

// lock takes the folder's internal lock, which serialises List,
// UIDValidity and renames across goroutines and processes; see the package
// documentation.
func (d *Dir) lock() (unlock func(), err error) {
	h, err := lockPath(filepath.Join(d.path, uidLockFile), true)
	if err != nil {
		return nil, err
	}
	return func() { _ = h.unlock() }, nil
}

// heldLock is a lock file locked by lockPath.
type heldLock struct {
	f   *os.File
	key string // its entry in processLocks, "" when not used
}

// lockPath opens (creating it, mode 0600) the lock file at path and locks
// it exclusively, waiting for other holders if wait is set, else failing
// with errWouldBlock. Where the platform needs it (useProcessLocks), the
// process's own table is consulted before the file is even opened: with
// fcntl locks, a second descriptor closed by a goroutine that finds the
// file locked would release the holder's lock.
func lockPath(path string, wait bool) (*heldLock, error) {
	h := &heldLock{}
	if useProcessLocks {
		h.key = path
		if abs, err := filepath.Abs(path); err == nil {
			h.key = abs
		}
		if !processLocks.acquire(h.key, wait) {
			return nil, errWouldBlock
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err == nil {
		if err = lockFile(f, wait); err != nil {
			f.Close()
		}
	}
	if err != nil {
		if h.key != "" {
			processLocks.release(h.key)
		}
		if errors.Is(err, errWouldBlock) {
			return nil, err
		}
		return nil, fmt.Errorf("maildir: lock %s: %w", path, err)
	}
	h.f = f
	return h, nil
}

// unlock releases the lock lockPath took and closes the file.
func (h *heldLock) unlock() error {
	uerr := unlockFile(h.f)
	cerr := h.f.Close()
	if h.key != "" {
		processLocks.release(h.key)
	}
	if err := errors.Join(uerr, cerr); err != nil {
		return fmt.Errorf("maildir: unlock: %w", err)
	}
	return nil
}

// procLocks is a table of the lock files this process holds, for platforms
// whose file locks do not exclude the process's own goroutines (fcntl) or
// that have none. A held path maps to a channel closed on release.
type procLocks struct {
	mu   sync.Mutex
	held map[string]chan struct{}
}

var processLocks procLocks

// acquire marks key held, waiting for its holder to release it if wait is
// set; it reports whether it did.
func (p *procLocks) acquire(key string, wait bool) bool {
	for {
		p.mu.Lock()
		ch, busy := p.held[key]
		if !busy {
			if p.held == nil {
				p.held = map[string]chan struct{}{}
			}
			p.held[key] = make(chan struct{})
			p.mu.Unlock()
			return true
		}
		p.mu.Unlock()
		if !wait {
			return false
		}
		<-ch
	}
}

// release marks key free and wakes its waiters.
func (p *procLocks) release(key string) {
	p.mu.Lock()
	if ch, ok := p.held[key]; ok {
		delete(p.held, key)
		close(ch)
	}
	p.mu.Unlock()
}

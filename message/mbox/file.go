package mbox

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/mailwire/mailwire/internal/atomicfile"
)

// Locking defaults.
const (
	// DefaultLockTimeout is how long LockFile waits for other holders.
	DefaultLockTimeout = 30 * time.Second

	// StaleLockAge is the age after which a dot-lock file is considered left
	// behind by a crashed process and removed. A holder refreshes its
	// dot-lock's modification time every StaleLockAge/3, so a lock held for
	// a long append does not go stale.
	StaleLockAge = 5 * time.Minute
)

// ErrLocked reports that the mailbox stayed locked by someone else for the
// whole timeout.
var ErrLocked = errors.New("mbox: mailbox is locked")

// Lock is a held lock on an mbox file: a dot-lock file PATH.lock created
// with O_EXCL, then an fcntl(2) write lock on the whole file, the pair that
// Dovecot ("dotlock fcntl"), mutt and procmail agree on.
//
// fcntl locks belong to the process and are released when the process
// closes any descriptor of the file; the dot-lock is what excludes other
// goroutines of the same process.
//
// Where there is no fcntl (Windows, Plan 9, WebAssembly) the dot-lock alone
// is the lock: it excludes every program that takes it, which on those
// systems is as far as mbox locking conventions go.
type Lock struct {
	f    *os.File
	dot  string
	stop chan struct{}
	done chan struct{}
}

// LockFile locks the mbox file at path, creating it (mode 0600) if it does
// not exist, and waits up to timeout (zero: DefaultLockTimeout) for other
// holders. The directory must be writable for the dot-lock.
func LockFile(path string, timeout time.Duration) (*Lock, error) {
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	deadline := time.Now().Add(timeout)
	dot := path + ".lock"
	wait := 5 * time.Millisecond
	for {
		if err := dotlock(dot, deadline); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			os.Remove(dot)
			return nil, fmt.Errorf("mbox: %w", err)
		}
		ok, err := fcntlLock(f)
		if ok {
			l := &Lock{f: f, dot: dot, stop: make(chan struct{}), done: make(chan struct{})}
			go l.refresh()
			return l, nil
		}
		f.Close()
		os.Remove(dot)
		if err != nil {
			return nil, err
		}
		// Someone holds an fcntl lock, typically a reader such as Dovecot
		// that holds a read lock while it waits for our dot-lock to
		// upgrade. Waiting here with the dot-lock held would deadlock, so
		// let go of both and try again, as Exim's appendfile does.
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%w: fcntl lock held on %s", ErrLocked, path)
		}
		time.Sleep(wait)
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// dotlock creates the dot-lock file, breaking it when stale.
func dotlock(dot string, deadline time.Time) error {
	wait := 5 * time.Millisecond
	for {
		f, err := os.OpenFile(dot, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			_, werr := f.WriteString(strconv.Itoa(os.Getpid()) + "\n")
			cerr := f.Close()
			if werr != nil || cerr != nil {
				os.Remove(dot)
				return fmt.Errorf("mbox: dot-lock: %w", errors.Join(werr, cerr))
			}
			return nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("mbox: dot-lock: %w", err)
		}
		if fi, err := os.Stat(dot); err == nil && time.Since(fi.ModTime()) > StaleLockAge {
			// Left by a crashed holder: break it and try again at once.
			os.Remove(dot)
			continue
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %s exists", ErrLocked, dot)
		}
		time.Sleep(wait)
		wait = min(2*wait, 100*time.Millisecond)
	}
}

func (l *Lock) refresh() {
	defer close(l.done)
	t := time.NewTicker(StaleLockAge / 3)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case now := <-t.C:
			_ = os.Chtimes(l.dot, now, now)
		}
	}
}

// File returns the locked mbox file, open for reading and writing.
func (l *Lock) File() *os.File { return l.f }

// Unlock releases the locks and closes the file. Calling it again does
// nothing.
func (l *Lock) Unlock() error {
	if l.f == nil {
		return nil
	}
	defer func() { l.f = nil }()
	close(l.stop)
	<-l.done
	fcntlUnlock(l.f)
	err := l.f.Close()
	if rerr := os.Remove(l.dot); rerr != nil && err == nil {
		err = fmt.Errorf("mbox: remove dot-lock: %w", rerr)
	}
	return err
}

// Append locks the mbox file at path (creating it if needed), appends one
// message read from r in mboxrd format, fsyncs the file and unlocks it. If
// the file does not end with an empty line, one is added first, so the new
// separator is recognised. If writing fails, the file is truncated back to
// its former size: a failed delivery leaves no partial message.
func Append(path, sender string, date time.Time, r io.Reader) error {
	l, err := LockFile(path, DefaultLockTimeout)
	if err != nil {
		return err
	}
	defer l.Unlock()
	f := l.f
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("mbox: %w", err)
	}
	var prefix string
	if size > 0 {
		var tail [2]byte
		n, err := f.ReadAt(tail[2-min(size, 2):], size-min(size, 2))
		if err != nil && err != io.EOF {
			return fmt.Errorf("mbox: %w", err)
		}
		switch {
		case tail[1] != '\n':
			prefix = "\n\n"
		case n < 2 || tail[0] != '\n':
			prefix = "\n"
		}
	}
	w := NewWriter(f)
	_, err = w.w.WriteString(prefix)
	if err == nil {
		err = w.WriteMessage(sender, date, r)
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if err == nil && size == 0 {
		// LockFile may just have created the file: its directory entry
		// must be durable too before the delivery counts as done.
		err = atomicfile.SyncDir(filepath.Dir(path))
	}
	if err != nil {
		if terr := f.Truncate(size); terr == nil {
			_ = f.Sync()
		}
		return fmt.Errorf("mbox: append: %w", err)
	}
	return nil
}

// WriteFile replaces the mbox file at path with what fill writes: under the
// mailbox lock, fill writes to a temporary file in the same directory, which
// is fsynced and renamed over path, and the directory is fsynced. The new
// file keeps the old one's mode and, where permitted, its owner and group.
// On error the old file stays as it was.
func WriteFile(path string, fill func(*Writer) error) error {
	l, err := LockFile(path, DefaultLockTimeout)
	if err != nil {
		return err
	}
	defer l.Unlock()
	tmp, err := atomicfile.New(path, 0o600)
	if err != nil {
		return fmt.Errorf("mbox: %w", err)
	}
	defer tmp.Abort()
	// The new file takes the old one's mode and owner: a spool mailbox
	// (owner bob, group mail, 0660) must stay readable by its owner. A
	// chown that is not permitted leaves the file ours.
	if fi, serr := l.f.Stat(); serr == nil {
		err = tmp.OS().Chmod(fi.Mode().Perm())
		if err == nil {
			err = chownLike(tmp.OS(), fi)
		}
	}
	w := NewWriter(tmp)
	if err == nil {
		err = fill(w)
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = tmp.Commit()
	}
	if err != nil {
		return fmt.Errorf("mbox: write %s: %w", path, err)
	}
	return nil
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

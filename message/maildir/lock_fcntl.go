//go:build aix || (solaris && !illumos)

package maildir

import (
	"errors"
	"io"
	"os"
	"syscall"
)

// fcntl locks belong to the process, not to the open file, so the
// process's goroutines are kept apart by processLocks (see lockPath).
const useProcessLocks = true

// lockFile takes a write lock on the whole of f with fcntl(2), where there
// is no flock.
func lockFile(f *os.File, wait bool) error {
	cmd := syscall.F_SETLKW
	if !wait {
		cmd = syscall.F_SETLK
	}
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: io.SeekStart}
	for {
		err := syscall.FcntlFlock(f.Fd(), cmd, &lk)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EACCES):
			return errWouldBlock
		}
		return err
	}
}

func unlockFile(f *os.File) error {
	lk := syscall.Flock_t{Type: syscall.F_UNLCK, Whence: io.SeekStart}
	return syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk)
}

// crossProcessLocks tells the tests whether the lock excludes other
// processes.
const crossProcessLocks = true

//go:build unix

package mbox

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// fcntlLock tries once to take a write lock on the whole file.
func fcntlLock(f *os.File) (bool, error) {
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: io.SeekStart}
	for {
		err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EACCES):
			return false, nil
		}
		return false, fmt.Errorf("mbox: fcntl lock: %w", err)
	}
}

// fcntlUnlock releases the lock fcntlLock took. Closing the file would
// release it too; this is for clarity in traces.
func fcntlUnlock(f *os.File) {
	lk := syscall.Flock_t{Type: syscall.F_UNLCK, Whence: io.SeekStart}
	_ = syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk)
}

// chownLike gives f the owner and group of the file fi describes, where
// permitted: a process that may not give files away keeps f its own.
func chownLike(f *os.File, fi os.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if err := f.Chown(int(st.Uid), int(st.Gid)); err != nil && !errors.Is(err, os.ErrPermission) {
		return err
	}
	return nil
}

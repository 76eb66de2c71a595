//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd

package maildir

import (
	"errors"
	"os"
	"syscall"
)

// The lock belongs to the open file, which keeps goroutines apart too.
const useProcessLocks = false

// lockFile takes an exclusive flock(2) on f. flock locks belong to the open
// file description, so they exclude other goroutines of this process as
// well as other processes.
func lockFile(f *os.File, wait bool) error {
	how := syscall.LOCK_EX
	if !wait {
		how |= syscall.LOCK_NB
	}
	for {
		err := syscall.Flock(int(f.Fd()), how)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return errWouldBlock
		}
		return err
	}
}

func unlockFile(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }

// crossProcessLocks tells the tests whether the lock excludes other
// processes.
const crossProcessLocks = true

package maildir

import (
	"errors"
	"os"
	"syscall"
	"unsafe"
)

// LockFileEx and UnlockFileEx are not in package syscall. kernel32.dll is
// one of Windows' KnownDLLs, always loaded from the system directory, so
// loading it by name cannot pick up a planted copy.
var (
	kernel32         = syscall.NewLazyDLL("kernel32.dll")
	procLockFileEx   = kernel32.NewProc("LockFileEx")
	procUnlockFileEx = kernel32.NewProc("UnlockFileEx")
)

const (
	lockfileFailImmediately = 0x1
	lockfileExclusiveLock   = 0x2

	errorLockViolation syscall.Errno = 33 // ERROR_LOCK_VIOLATION
)

// The lock belongs to the open file, which keeps goroutines apart too.
const useProcessLocks = false

// lockFile locks the first byte of f with LockFileEx. The lock belongs to
// the handle, so it excludes other handles of this process as well as
// other processes; the lock files are never read or written, so the
// mandatory nature of Windows locks does not get in the way.
func lockFile(f *os.File, wait bool) error {
	flags := uintptr(lockfileExclusiveLock)
	if !wait {
		flags |= lockfileFailImmediately
	}
	var ol syscall.Overlapped
	r, _, err := procLockFileEx.Call(f.Fd(), flags, 0, 1, 0, uintptr(unsafe.Pointer(&ol)))
	if r != 0 {
		return nil
	}
	if errors.Is(err, errorLockViolation) {
		return errWouldBlock
	}
	return err
}

func unlockFile(f *os.File) error {
	var ol syscall.Overlapped
	r, _, err := procUnlockFileEx.Call(f.Fd(), 0, 1, 0, uintptr(unsafe.Pointer(&ol)))
	if r != 0 {
		return nil
	}
	return err
}

// crossProcessLocks tells the tests whether the lock excludes other
// processes.
const crossProcessLocks = true

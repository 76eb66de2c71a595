//go:build linux && (amd64 || arm64)

package queue

import (
	"os"
	"syscall"
)

// syncFS flushes the whole file system holding f with syncfs(2), which
// writes back every dirty file and commits the journal once: the flush of
// a group commit.
func syncFS(f *os.File) (bool, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return false, nil
	}
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(sysSyncfs, fd, 0, 0)
	}); err != nil {
		return false, nil
	}
	if errno == syscall.ENOSYS {
		return false, nil
	}
	if errno != 0 {
		return true, os.NewSyscallError("syncfs", errno)
	}
	return true, nil
}

//go:build !unix && !windows

package maildir

import "os"

// These platforms (Plan 9, WebAssembly) offer no advisory file lock through
// package syscall: processLocks alone excludes the goroutines of this
// process, and nothing excludes other processes.
const useProcessLocks = true

func lockFile(*os.File, bool) error { return nil }

func unlockFile(*os.File) error { return nil }

// crossProcessLocks tells the tests whether the lock excludes other
// processes.
const crossProcessLocks = false

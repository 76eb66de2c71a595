//go:build !unix

package mbox

import "os"

// fcntlLock succeeds at once where there is no fcntl(2): the dot-lock
// alone locks the mailbox (see Lock).
func fcntlLock(*os.File) (bool, error) { return true, nil }

func fcntlUnlock(*os.File) {}

// chownLike does nothing: these systems have no Unix owner to keep.
func chownLike(*os.File, os.FileInfo) error { return nil }

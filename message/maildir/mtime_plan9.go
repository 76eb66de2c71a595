package maildir

import (
	"os"
	"time"
)

// setModTime sets the access and modification times of the file at path to
// t. Plan 9 keeps times in seconds since 1970 in 32 bits.
func setModTime(path string, t time.Time) error { return os.Chtimes(path, t, t) }

//go:build !plan9

package maildir

import (
	"syscall"
	"time"
)

// setModTime sets the access and modification times of the file at path to
// t. Not os.Chtimes: it goes through UnixNano, which overflows outside the
// years 1678-2262, and an IMAP APPEND may carry any date.
func setModTime(path string, t time.Time) error {
	ts := syscall.NsecToTimespec(int64(t.Nanosecond()))
	setInt(&ts.Sec, t.Unix())
	return syscall.UtimesNano(path, []syscall.Timespec{ts, ts})
}

// setInt stores v in a field whose width depends on the platform
// (Timespec.Sec is 32 bits on some).
func setInt[T ~int32 | ~int64](p *T, v int64) { *p = T(v) }

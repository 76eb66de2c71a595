// Package atomicfile writes files durably and atomically: the content goes
// to a temporary file in the target's directory, which is fsynced, renamed
// (or hard-linked) to its final name, and the directory is fsynced. A reader
// sees either the old file or the whole new one under the final name, never
// a part of it, and once the directory sync returns the new file survives a
// crash.
//
// The three steps are separate methods of File (Sync; Rename or Link;
// SyncDir) so that callers can batch them: many files written and renamed
// into one directory can share one SyncDir. Commit runs all three, and Write
// is the one-call form.
//
// On Windows a directory cannot be opened for fsync; SyncDir does nothing
// there. NTFS journals its metadata, so a rename is not lost half done, but
// it may be lost whole in a crash right after it returns.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// File is a file being written under a temporary name. Its zero value is not
// usable; make one with New or CreateExcl. Abort removes the temporary file
// unless Rename or Link has put it in place, so a deferred Abort cleans up
// after any failure.
type File struct {
	f      *os.File // nil once closed
	tmp    string   // the temporary path
	path   string   // the final path given to New, "" for CreateExcl
	placed bool     // renamed or linked into place
}

// New creates a temporary file in the directory of path, with mode perm
// (before the umask), for a file that Commit or Rename will put at path. The
// temporary name starts with "." and the base name of path, so directory
// listings that skip dot files do not see it.
func New(path string, perm fs.FileMode) (*File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return nil, err
	}
	// CreateTemp makes the file 0600; apply the caller's mode.
	if perm.Perm() != 0o600 {
		if err := f.Chmod(perm.Perm()); err != nil {
			f.Close()
			os.Remove(f.Name())
			return nil, err
		}
	}
	return &File{f: f, tmp: f.Name(), path: path}, nil
}

// CreateExcl creates the temporary file at exactly tmp, failing with an
// error wrapping fs.ErrExist when something is there. It is for callers that
// choose unique temporary names themselves, as Maildir delivery does in
// tmp/. The final name is given later to Rename or Link.
func CreateExcl(tmp string, perm fs.FileMode) (*File, error) {
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return nil, err
	}
	return &File{f: f, tmp: tmp}, nil
}

// Name returns the temporary path, for as long as the file is not in place.
func (f *File) Name() string { return f.tmp }

// OS returns the open temporary file, for operations this type does not
// wrap (Chmod, Chown, Truncate, Stat). It is nil once the file is closed by
// Rename, Link, Close or Abort. Closing it directly is a mistake.
func (f *File) OS() *os.File { return f.f }

// Write writes to the temporary file.
func (f *File) Write(p []byte) (int, error) {
	if f.f == nil {
		return 0, os.ErrClosed
	}
	return f.f.Write(p)
}

// ReadFrom copies r into the temporary file, letting the operating system
// copy directly where it can.
func (f *File) ReadFrom(r io.Reader) (int64, error) {
	if f.f == nil {
		return 0, os.ErrClosed
	}
	return f.f.ReadFrom(r)
}

// Sync flushes the temporary file's content to stable storage (step one).
func (f *File) Sync() error {
	if f.f == nil {
		return os.ErrClosed
	}
	return f.f.Sync()
}

// Close closes the temporary file without putting it in place or removing
// it. Rename and Link close it themselves; Close is for callers that need
// it closed before that (to set its times by path, say). Closing a closed
// File does nothing.
func (f *File) Close() error {
	if f.f == nil {
		return nil
	}
	err := f.f.Close()
	f.f = nil
	return err
}

// Rename closes the temporary file and renames it to dst, replacing any
// file there (step two); an empty dst means the path given to New. It does
// not sync the directory: call SyncDir on dst's directory before relying on
// the new name surviving a crash. Call Sync before Rename for the content
// to be durable; Rename does not.
func (f *File) Rename(dst string) error {
	if dst, err := f.dst(dst); err != nil {
		return err
	} else if err := f.Close(); err != nil {
		return err
	} else if err := os.Rename(f.tmp, dst); err != nil {
		return err
	}
	f.placed = true
	return nil
}

// Link closes the temporary file and hard-links it to dst, which must not
// exist (an error wrapping fs.ErrExist otherwise), then removes the
// temporary name; an empty dst means the path given to New. Unlike Rename it
// never replaces a file. On file systems without hard links it falls back to
// Rename, which on most systems does replace: use it only for names that are
// unique anyway. If removing the temporary name fails, the file is in place
// all the same and a second name remains at Name, which the caller may clean
// up later. Like Rename, it does not sync the directory.
func (f *File) Link(dst string) error {
	dst, err := f.dst(dst)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Link(f.tmp, dst); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		if rerr := os.Rename(f.tmp, dst); rerr != nil {
			return rerr
		}
		f.placed = true
		return nil
	}
	f.placed = true
	_ = os.Remove(f.tmp)
	return nil
}

func (f *File) dst(dst string) (string, error) {
	if f.placed {
		return "", errors.New("atomicfile: file already in place")
	}
	if dst == "" {
		dst = f.path
	}
	if dst == "" {
		return "", errors.New("atomicfile: no destination")
	}
	return dst, nil
}

// Commit syncs the file, renames it to the path given to New and syncs that
// directory: all three steps. On error the temporary file is removed and
// the old file at path, if any, is left as it was (unless the error came
// from the directory sync, after the rename).
func (f *File) Commit() error {
	err := f.Sync()
	if err == nil {
		err = f.Rename("")
	}
	if err != nil {
		f.Abort()
		return err
	}
	return SyncDir(filepath.Dir(f.path))
}

// Abort closes the file and removes its temporary name, unless the file has
// been put in place, in which case it does nothing. It is meant to be
// deferred.
func (f *File) Abort() error {
	if f.placed {
		return nil
	}
	f.Close()
	err := os.Remove(f.tmp)
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	return err
}

// Write replaces the file at path with what it reads from r, through a
// temporary file in the same directory: fsync, rename, directory fsync. The
// new file has mode perm (before the umask). On error the old file stays as
// it was and no temporary file is left behind.
func Write(path string, r io.Reader, perm fs.FileMode) error {
	f, err := New(path, perm)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := io.Copy(f, r); err != nil {
		return err
	}
	return f.Commit()
}

// SyncDir fsyncs the directory dir, so that the names created, renamed or
// removed in it survive a crash. File systems that cannot sync a directory
// (they report EINVAL) are taken at their word; on Windows it does nothing
// (see the package documentation).
func SyncDir(dir string) error {
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

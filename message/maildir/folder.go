package maildir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Maildir++ keeps folders as Maildirs named ".NAME" inside the root Maildir
// (the INBOX), with '.' as the hierarchy separator: folder "A/B" lives in
// ROOT/.A.B. Each folder holds an empty file "maildirfolder".
//
// This package names folders with '/' as the separator, so component names
// may not contain '.'. Names are stored as given: Courier and Dovecot store
// non-ASCII names in IMAP's modified UTF-7 (RFC 3501 §5.1.3), so callers that
// share folders with them should encode names that way.

// checkFolder validates a folder name and returns its directory name.
func checkFolder(name string) (string, error) {
	if name == "" || len(name) > 200 {
		return "", fmt.Errorf("%w: %q", ErrBadFolder, name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == "" {
			return "", fmt.Errorf("%w: %q", ErrBadFolder, name)
		}
		for i := 0; i < len(part); i++ {
			if c := part[i]; c < 0x20 || c == 0x7f || c == '.' || c == '/' {
				return "", fmt.Errorf("%w: %q", ErrBadFolder, name)
			}
		}
	}
	return "." + strings.ReplaceAll(name, "/", "."), nil
}

// fullName resolves name relative to d: in a folder "A", "B" means "A/B".
func (d *Dir) fullName(name string) string {
	if d.name == "" {
		return name
	}
	return d.name + "/" + name
}

// Folder opens the existing Maildir++ folder name ("Sent", "Archive/2024")
// below d. An error wrapping fs.ErrNotExist means it does not exist.
func (d *Dir) Folder(name string) (*Dir, error) {
	full := d.fullName(name)
	dir, err := checkFolder(full)
	if err != nil {
		return nil, err
	}
	sub, err := open(filepath.Join(d.root, dir), d.root, full)
	if err != nil {
		return nil, err
	}
	sub.MaxMessageSize, sub.Hostname = d.MaxMessageSize, d.Hostname
	return sub, nil
}

// CreateFolder creates the folder name below d and opens it. Parent folders
// are not created: Maildir++ does not need them. An error wrapping
// fs.ErrExist means the folder exists already.
func (d *Dir) CreateFolder(name string) (*Dir, error) {
	full := d.fullName(name)
	dir, err := checkFolder(full)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(d.root, dir)
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("maildir: folder %q: %w", full, fs.ErrExist)
	}
	// Build the folder under tmp and rename it into place, so other
	// processes never see a folder without cur, new or tmp.
	base, err := d.uniqueName(timeNow())
	if err != nil {
		return nil, err
	}
	work := filepath.Join(d.root, "tmp", base+".folder")
	for _, s := range subdirs {
		if err := os.MkdirAll(filepath.Join(work, s), 0o700); err != nil {
			os.RemoveAll(work)
			return nil, fmt.Errorf("maildir: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(work, "maildirfolder"), nil, 0o600); err != nil {
		os.RemoveAll(work)
		return nil, fmt.Errorf("maildir: %w", err)
	}
	// The entries must be durable before the folder becomes visible, or
	// a crash could leave a folder without cur, new or tmp.
	if err := syncDir(work); err != nil {
		os.RemoveAll(work)
		return nil, err
	}
	// rename of a directory onto an existing non-empty directory fails, so
	// a concurrent creator wins cleanly. The error differs between systems
	// (EEXIST, ENOTEMPTY, access denied on Windows): what tells is that the
	// folder is there.
	if err := os.Rename(work, path); err != nil {
		os.RemoveAll(work)
		if _, serr := os.Lstat(path); serr == nil || errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("maildir: folder %q: %w", full, fs.ErrExist)
		}
		return nil, fmt.Errorf("maildir: %w", err)
	}
	if err := syncDir(d.root); err != nil {
		return nil, err
	}
	return d.Folder(name)
}

// Folders returns the names of all folders below d (for the root: all
// folders), sorted. The root itself (the INBOX) is not included.
func (d *Dir) Folders() ([]string, error) {
	ents, err := os.ReadDir(d.root)
	if err != nil {
		return nil, fmt.Errorf("maildir: %w", err)
	}
	prefix := "."
	if d.name != "" {
		prefix = "." + strings.ReplaceAll(d.name, "/", ".") + "."
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if !strings.HasPrefix(n, prefix) || n == "." || n == ".." || strings.HasPrefix(n, "..") {
			continue
		}
		if fi, err := os.Stat(filepath.Join(d.root, n)); err != nil || !fi.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(d.root, n, "cur")); err != nil {
			continue
		}
		name := strings.ReplaceAll(n[1:], ".", "/")
		if d.name != "" {
			name = name[len(d.name)+1:]
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out, nil
}

// RenameFolder renames the folder oldName below d and all folders below it
// to newName, as IMAP RENAME does (RFC 3501 §6.3.5). Each directory rename is
// atomic; the set of them is not. An error wrapping fs.ErrExist means
// newName (or one of the renamed children's new names) exists.
func (d *Dir) RenameFolder(oldName, newName string) error {
	oldFull, newFull := d.fullName(oldName), d.fullName(newName)
	oldDir, err := checkFolder(oldFull)
	if err != nil {
		return err
	}
	newDir, err := checkFolder(newFull)
	if err != nil {
		return err
	}
	if oldFull == newFull || strings.HasPrefix(newFull, oldFull+"/") {
		return fmt.Errorf("%w: cannot rename %q to %q", ErrBadFolder, oldFull, newFull)
	}
	if _, err := os.Stat(filepath.Join(d.root, oldDir)); err != nil {
		return fmt.Errorf("maildir: folder %q: %w", oldFull, fs.ErrNotExist)
	}
	ents, err := os.ReadDir(d.root)
	if err != nil {
		return fmt.Errorf("maildir: %w", err)
	}
	type ren struct{ from, to string }
	plan := []ren{{oldDir, newDir}}
	for _, e := range ents {
		if rest, ok := strings.CutPrefix(e.Name(), oldDir+"."); ok && e.IsDir() {
			plan = append(plan, ren{e.Name(), newDir + "." + rest})
		}
	}
	for _, p := range plan {
		if _, err := os.Lstat(filepath.Join(d.root, p.to)); err == nil {
			return fmt.Errorf("maildir: folder %q: %w", strings.ReplaceAll(p.to[1:], ".", "/"), fs.ErrExist)
		}
	}
	for _, p := range plan {
		if err := os.Rename(filepath.Join(d.root, p.from), filepath.Join(d.root, p.to)); err != nil {
			return fmt.Errorf("maildir: %w", err)
		}
	}
	return syncDir(d.root)
}

// RemoveFolder deletes the folder name below d with its messages. Folders
// below it stay, as with IMAP DELETE (RFC 3501 §6.3.4). The folder is first
// renamed into the root's tmp, so no process sees it half deleted; if the
// removal is interrupted, CleanTmp on the root finishes it.
func (d *Dir) RemoveFolder(name string) error {
	full := d.fullName(name)
	dir, err := checkFolder(full)
	if err != nil {
		return err
	}
	path := filepath.Join(d.root, dir)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("maildir: folder %q: %w", full, fs.ErrNotExist)
	}
	base, err := d.uniqueName(timeNow())
	if err != nil {
		return err
	}
	trash := filepath.Join(d.root, "tmp", base+".deleted")
	if err := os.Rename(path, trash); err != nil {
		return fmt.Errorf("maildir: %w", err)
	}
	if err := syncDir(d.root); err != nil {
		return err
	}
	if err := os.RemoveAll(trash); err != nil {
		return fmt.Errorf("maildir: %w", err)
	}
	return nil
}

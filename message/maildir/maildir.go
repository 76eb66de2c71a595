package maildir

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailwire/mailwire/internal/atomicfile"
	"github.com/mailwire/mailwire/internal/textline"
)

// Defaults for the limits and ages this package uses.
const (
	// DefaultMaxMessageSize bounds a delivered message when
	// Dir.MaxMessageSize is zero.
	DefaultMaxMessageSize = 256 << 20

	// DefaultTmpAge is how long a file may sit in tmp before CleanTmp removes
	// it: the Maildir convention says a file untouched for 36 hours is an
	// abandoned delivery.
	DefaultTmpAge = 36 * time.Hour
)

// Errors for conditions callers branch on. Missing messages and folders are
// reported with errors wrapping fs.ErrNotExist, existing folders with
// fs.ErrExist.
var (
	ErrTooLarge  = errors.New("maildir: message exceeds the size limit")
	ErrBadFolder = errors.New("maildir: bad folder name")
	ErrBadKey    = errors.New("maildir: bad message key")
)

// Dir is a Maildir: a directory with the subdirectories tmp, new and cur.
// A Dir is safe for concurrent use by goroutines, and several processes may
// deliver to and read one Maildir at once (see the package documentation for
// the locking rules).
type Dir struct {
	// MaxMessageSize bounds the bytes Deliver and Append write; zero means
	// DefaultMaxMessageSize and a negative value means no limit.
	MaxMessageSize int64

	// Hostname is the host part of new unique names; empty means the
	// host name from os.Hostname.
	Hostname string

	path string // this Maildir
	root string // the Maildir++ root (path itself for the root)
	name string // folder name with '/' separators, "" for the root

	mu    sync.Mutex
	names map[string]string // key -> "new/NAME" or "cur/NAME", a hint
}

// Message describes one message as List found it.
type Message struct {
	Key   string    // stable name: the file name before ":"
	UID   uint32    // stable per-folder number for IMAP UIDs and POP3 UIDL
	Size  int64     // bytes in the file (from ",S=" when present)
	Flags Flags     // flags from the info suffix
	Date  time.Time // internal date: the file's modification time
	New   bool      // true while the message is still in new
	File  string    // file name relative to the Maildir: "new/..." or "cur/..."

	// WireSize is the size with CRLF line ends (see WireSize), from the
	// ",W=" field of the name, or -1 when the name has none; FillWireSizes
	// fills it in.
	WireSize int64
}

var subdirs = [...]string{"tmp", "new", "cur"}

// Create makes a Maildir at path (and its parents) if it does not exist,
// and opens it. Directories are created with mode 0700.
func Create(path string) (*Dir, error) {
	for _, s := range subdirs {
		if err := os.MkdirAll(filepath.Join(path, s), 0o700); err != nil {
			return nil, fmt.Errorf("maildir: %w", err)
		}
	}
	if err := syncDir(path); err != nil {
		return nil, err
	}
	return Open(path)
}

// Open opens an existing Maildir; it fails when tmp, new or cur is missing.
func Open(path string) (*Dir, error) {
	return open(path, path, "")
}

func open(path, root, name string) (*Dir, error) {
	for _, s := range subdirs {
		fi, err := os.Stat(filepath.Join(path, s))
		if err != nil {
			return nil, fmt.Errorf("maildir: %w", err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("maildir: %s/%s is not a directory", path, s)
		}
	}
	return &Dir{path: path, root: root, name: name, names: map[string]string{}}, nil
}

// Path returns the directory of d.
func (d *Dir) Path() string { return d.path }

// Name returns the folder name of d ("" for the root, the INBOX).
func (d *Dir) Name() string { return d.name }

func (d *Dir) maxSize() int64 {
	switch {
	case d.MaxMessageSize == 0:
		return DefaultMaxMessageSize
	case d.MaxMessageSize < 0:
		return -1
	}
	return d.MaxMessageSize
}

var (
	deliveries atomic.Uint64
	hostOnce   sync.Once
	hostName   string
)

// safeHost makes a host name fit in a unique name: the Maildir convention
// replaces '/' by \057 and ':' by \072, and Maildir++ ',' by \054.
func safeHost(h string) string {
	if h == "" {
		h = "localhost"
	}
	r := strings.NewReplacer("/", `\057`, ":", `\072`, ",", `\054`, "\x00", "")
	return r.Replace(h)
}

// uniqueName returns a new name in the modern Maildir form
// SECONDS.M<usec>P<pid>Q<count>R<random>.HOST. The random part makes names
// unique without relying on the clock or on process IDs not being reused.
func (d *Dir) uniqueName(now time.Time) (string, error) {
	host := d.Hostname
	if host == "" {
		hostOnce.Do(func() { hostName, _ = os.Hostname() })
		host = hostName
	}
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d.M%06dP%dQ%dR%s.%s", now.Unix(), now.Nanosecond()/1000, os.Getpid(),
		deliveries.Add(1), hex.EncodeToString(rnd[:]), safeHost(host)), nil
}

// Deliver writes the message read from r into new and returns its key. It
// streams: the message is copied from r to a file in tmp, the file is fsynced,
// linked into new under its final name KEY = UNIQUE,S=SIZE,W=VSIZE, and the directory
// new is fsynced, so when Deliver returns nil the message survives a crash.
// On error no trace of the message stays visible in new.
//
// The bytes are stored as delivered: a message with CRLF line ends keeps
// them, and S= is the stored size. Mail servers conventionally store LF.
func (d *Dir) Deliver(r io.Reader) (string, error) {
	return d.deliver(r, false, "", time.Time{})
}

// Append writes the message read from r directly into cur with the given
// flags, and with date as its internal date (the file's modification time)
// unless date is zero. It is Deliver for an IMAP APPEND or an import, with
// the same durability.
func (d *Dir) Append(r io.Reader, flags Flags, date time.Time) (string, error) {
	return d.deliver(r, true, normFlags([]byte(flags)), date)
}

func (d *Dir) deliver(r io.Reader, intoCur bool, flags Flags, date time.Time) (key string, err error) {
	base, err := d.uniqueName(time.Now())
	if err != nil {
		return "", err
	}
	f, err := atomicfile.CreateExcl(filepath.Join(d.path, "tmp", base), 0o600)
	if err != nil {
		return "", fmt.Errorf("maildir: deliver: %w", err)
	}
	defer f.Abort()
	var n int64
	var wc textline.CRLFCounter
	w := io.MultiWriter(f, &wc)
	if max := d.maxSize(); max >= 0 {
		n, err = io.Copy(w, io.LimitReader(r, max+1))
		if err == nil && n > max {
			err = ErrTooLarge
		}
	} else {
		n, err = io.Copy(w, r)
	}
	if err != nil {
		return "", fmt.Errorf("maildir: deliver: %w", err)
	}
	if !date.IsZero() {
		// Set the internal date before the fsync so it is durable too.
		if err = setModTime(f.Name(), date); err != nil {
			return "", fmt.Errorf("maildir: deliver: %w", err)
		}
	}
	if err = f.Sync(); err != nil {
		return "", fmt.Errorf("maildir: deliver: fsync: %w", err)
	}

	// Maildir++ and Dovecot: S= is the stored size, W= the size with CRLF
	// line ends (what POP3 LIST and IMAP RFC822.SIZE report).
	key = base + ",S=" + strconv.FormatInt(n, 10) + ",W=" + strconv.FormatInt(wc.N, 10)
	sub, name := "new", key
	if intoCur {
		sub, name = "cur", key+":2,"+string(flags)
	}
	dst := filepath.Join(d.path, sub, name)
	// Link refuses to replace an existing file, unlike rename. If the name
	// in tmp cannot be removed after it, CleanTmp removes it later.
	if err = f.Link(dst); err != nil {
		return "", fmt.Errorf("maildir: deliver: %w", err)
	}
	if err = syncDir(filepath.Join(d.path, sub)); err != nil {
		// The message may or may not survive a crash; do not report success
		// and do not leave it visible.
		os.Remove(dst)
		return "", err
	}
	d.remember(key, sub+"/"+name)
	return key, nil
}

// syncDir fsyncs a directory so that entries created or renamed in it
// survive a crash.
func syncDir(path string) error {
	if err := atomicfile.SyncDir(path); err != nil {
		return fmt.Errorf("maildir: %w", err)
	}
	return nil
}

func (d *Dir) remember(key, rel string) {
	d.mu.Lock()
	d.names[key] = rel
	d.mu.Unlock()
}

func (d *Dir) forget(key string) {
	d.mu.Lock()
	delete(d.names, key)
	d.mu.Unlock()
}

// entry is a message file found by scan.
type entry struct {
	name Name
	rel  string // "new/NAME" or "cur/NAME"
}

// scan reads new and cur. A key present in both (only possible when some
// other program copied instead of renaming) is reported once, from cur.
func (d *Dir) scan() (map[string]entry, error) {
	out := map[string]entry{}
	for _, sub := range []string{"new", "cur"} {
		f, err := os.Open(filepath.Join(d.path, sub))
		if err != nil {
			return nil, fmt.Errorf("maildir: %w", err)
		}
		names, err := readDirNames(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("maildir: %w", err)
		}
		for _, nm := range names {
			n, err := ParseName(nm)
			if err != nil {
				continue
			}
			// A file in new normally has no info, but Dovecot renames
			// files in place in new when their flags change while they
			// are still \Recent, so the info counts wherever it is.
			out[n.Key] = entry{name: n, rel: sub + "/" + nm}
		}
	}
	d.mu.Lock()
	clear(d.names)
	for k, e := range out {
		d.names[k] = e.rel
	}
	d.mu.Unlock()
	return out, nil
}

// readDirNames reads a directory's entries; tests replace it to simulate
// entries that a concurrent rename hides from one read.
var readDirNames = defaultReadDirNames

func defaultReadDirNames(f *os.File) ([]string, error) { return f.Readdirnames(-1) }

// locate returns the current relative path of key, rescanning when the
// remembered one is gone.
func (d *Dir) locate(key string) (string, error) {
	if !validKey(key) {
		return "", fmt.Errorf("%w: %q", ErrBadKey, key)
	}
	d.mu.Lock()
	rel, ok := d.names[key]
	d.mu.Unlock()
	if ok {
		if _, err := os.Lstat(filepath.Join(d.path, rel)); err == nil {
			return rel, nil
		}
	}
	ents, err := d.scan()
	if err != nil {
		return "", err
	}
	e, ok := ents[key]
	if !ok {
		return "", fmt.Errorf("maildir: message %s: %w", key, fs.ErrNotExist)
	}
	return e.rel, nil
}

// List returns the messages in new and cur in UID order, assigning UIDs to
// messages seen for the first time and recording them in the folder's UID
// list (see UIDValidity).
func (d *Dir) List() ([]Message, error) {
	unlock, err := d.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	ents, err := d.scan()
	if err != nil {
		return nil, err
	}
	ul, err := d.loadUIDs(ents)
	if err != nil {
		return nil, err
	}
	msgs := make([]Message, 0, len(ents))
	for key, e := range ents {
		fi, err := os.Stat(filepath.Join(d.path, e.rel))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed by another program meanwhile
			}
			return nil, fmt.Errorf("maildir: %w", err)
		}
		size := e.name.Size
		if size < 0 {
			size = fi.Size()
		}
		msgs = append(msgs, Message{
			Key:      key,
			UID:      ul.uids[key],
			Size:     size,
			Flags:    e.name.Flags,
			Date:     fi.ModTime(),
			New:      strings.HasPrefix(e.rel, "new/"),
			File:     e.rel,
			WireSize: e.name.WireSize,
		})
	}
	sort.Slice(msgs, func(i, j int) bool { return msgs[i].UID < msgs[j].UID })
	return msgs, nil
}

// Open opens the message with the given key for reading.
func (d *Dir) Open(key string) (*os.File, error) {
	for try := 0; ; try++ {
		rel, err := d.locate(key)
		if err != nil {
			return nil, err
		}
		f, err := os.Open(filepath.Join(d.path, rel))
		if err == nil {
			return f, nil
		}
		// Renamed (flags changed) between locate and open: look again once.
		if !errors.Is(err, fs.ErrNotExist) || try > 0 {
			return nil, fmt.Errorf("maildir: %w", err)
		}
		d.forget(key)
	}
}

// Flags returns the current flags of the message with the given key.
func (d *Dir) Flags(key string) (Flags, error) {
	rel, err := d.locate(key)
	if err != nil {
		return "", err
	}
	_, file, _ := strings.Cut(rel, "/")
	n, err := ParseName(file)
	if err != nil {
		return "", err
	}
	return n.Flags, nil
}

// SetFlags replaces the flags of the message with the given key, moving it
// from new to cur if it is still in new. Lower-case keyword letters are
// whatever the caller passes: to keep a message's keywords, start from its
// current flags (Message.Flags or Dir.Flags). Flag changes are not fsynced:
// after a crash a message may show its previous flags, never disappear.
func (d *Dir) SetFlags(key string, flags Flags) error {
	unlock, err := d.lock()
	if err != nil {
		return err
	}
	defer unlock()
	return d.move(key, func(Flags) Flags { return normFlags([]byte(flags)) })
}

// MoveToCur moves the message with the given key from new to cur with an
// empty info (":2,"), as an IMAP server does when a session first sees it
// (it is no longer \Recent). A message already in cur is left alone.
func (d *Dir) MoveToCur(key string) error {
	unlock, err := d.lock()
	if err != nil {
		return err
	}
	defer unlock()
	return d.move(key, func(f Flags) Flags { return f })
}

// move renames key into cur with the flags change returns. The caller holds
// the lock.
func (d *Dir) move(key string, change func(Flags) Flags) error {
	for try := 0; ; try++ {
		rel, err := d.locate(key)
		if err != nil {
			return err
		}
		_, file, _ := strings.Cut(rel, "/")
		cur, err := ParseName(file)
		if err != nil {
			return err
		}
		next := Name{Key: key, Flags: change(cur.Flags)}
		newRel := "cur/" + next.String()
		if newRel == rel {
			return nil
		}
		err = os.Rename(filepath.Join(d.path, rel), filepath.Join(d.path, newRel))
		if err == nil {
			d.remember(key, newRel)
			return nil
		}
		if !errors.Is(err, fs.ErrNotExist) || try > 0 {
			return fmt.Errorf("maildir: %w", err)
		}
		d.forget(key)
	}
}

// MoveNewToCur moves every message in new to cur and returns their keys.
func (d *Dir) MoveNewToCur() ([]string, error) {
	unlock, err := d.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	ents, err := d.scan()
	if err != nil {
		return nil, err
	}
	var moved []string
	for k, e := range ents {
		if strings.HasPrefix(e.rel, "new/") {
			if err := d.move(k, func(f Flags) Flags { return f }); err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					continue
				}
				return moved, err
			}
			moved = append(moved, k)
		}
	}
	sort.Strings(moved)
	return moved, nil
}

// Remove deletes the message with the given key. Its UID is never reused.
func (d *Dir) Remove(key string) error {
	unlock, err := d.lock()
	if err != nil {
		return err
	}
	defer unlock()
	for try := 0; ; try++ {
		rel, err := d.locate(key)
		if err != nil {
			return err
		}
		err = os.Remove(filepath.Join(d.path, rel))
		if err == nil {
			d.forget(key)
			return nil
		}
		if !errors.Is(err, fs.ErrNotExist) || try > 0 {
			return fmt.Errorf("maildir: %w", err)
		}
		d.forget(key)
	}
}

// CleanTmp removes files (and directories left by RemoveFolder) in tmp whose
// modification time is older than olderThan, which zero or less means
// DefaultTmpAge. They are abandoned deliveries: a delivery that succeeded
// has already linked its file into new or cur. It returns how many entries
// it removed. Run it now and then, for example when a session opens the
// folder, as Dovecot does.
//
// It also removes this package's own temporary files of the same age
// beside tmp, new and cur (".mailwire-uidlist.tmp...", left when a process
// dies while it replaces the UID list or the wire-size cache).
func (d *Dir) CleanTmp(olderThan time.Duration) (int, error) {
	if olderThan <= 0 {
		olderThan = DefaultTmpAge
	}
	tmp := filepath.Join(d.path, "tmp")
	ents, err := os.ReadDir(tmp)
	if err != nil {
		return 0, fmt.Errorf("maildir: %w", err)
	}
	limit := time.Now().Add(-olderThan)
	n := 0
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil || !fi.ModTime().Before(limit) {
			continue
		}
		p := filepath.Join(tmp, e.Name())
		if e.IsDir() {
			err = os.RemoveAll(p)
		} else {
			err = os.Remove(p)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, fmt.Errorf("maildir: %w", err)
		}
		n++
	}
	ents, err = os.ReadDir(d.path)
	if err != nil {
		return n, fmt.Errorf("maildir: %w", err)
	}
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, ".mailwire-") || !strings.Contains(name, ".tmp") {
			continue
		}
		if fi, err := e.Info(); err != nil || !fi.ModTime().Before(limit) {
			continue
		}
		if err := os.Remove(filepath.Join(d.path, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, fmt.Errorf("maildir: %w", err)
		}
		n++
	}
	return n, nil
}

var timeNow = time.Now

// Copy stores a copy of the message with the given key in dst (another
// folder, or another Maildir), with the same flags and internal date, and
// returns its key there. The copy is written as Append writes, so it is
// durable when Copy returns; the original is left alone (IMAP COPY, RFC
// 3501 §6.4.7).
func (d *Dir) Copy(key string, dst *Dir) (string, error) {
	f, err := d.Open(key)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("maildir: %w", err)
	}
	flags, err := d.Flags(key)
	if err != nil {
		return "", err
	}
	return dst.Append(f, flags, fi.ModTime())
}

// Move moves the message with the given key into cur of dst, a folder of
// the same Maildir++ tree (or any Maildir on the same file system), keeping
// its key, flags and internal date: one atomic rename, after which both
// directories are fsynced. In dst the message gets a new UID at the next
// List (IMAP MOVE, RFC 6851).
func (d *Dir) Move(key string, dst *Dir) error {
	unlock, err := d.lock()
	if err != nil {
		return err
	}
	defer unlock()
	for try := 0; ; try++ {
		rel, err := d.locate(key)
		if err != nil {
			return err
		}
		_, file, _ := strings.Cut(rel, "/")
		n, err := ParseName(file)
		if err != nil {
			return err
		}
		name := Name{Key: key, Flags: n.Flags}.String()
		err = os.Rename(filepath.Join(d.path, rel), filepath.Join(dst.path, "cur", name))
		if err == nil {
			d.forget(key)
			dst.remember(key, "cur/"+name)
			if err := syncDir(filepath.Join(dst.path, "cur")); err != nil {
				return err
			}
			return syncDir(filepath.Join(d.path, rel[:3]))
		}
		if !errors.Is(err, fs.ErrNotExist) || try > 0 {
			return fmt.Errorf("maildir: %w", err)
		}
		d.forget(key)
	}
}

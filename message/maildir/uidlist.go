package maildir

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mailwire/mailwire/internal/atomicfile"
)

// The UID list and its lock live beside tmp, new and cur. The names differ
// from Dovecot's (dovecot-uidlist) and Courier's (courierimapuiddb), so the
// three can coexist in one Maildir without touching each other.
const (
	uidListFile = "mailwire-uidlist"
	uidLockFile = "mailwire-uidlist.lock"
	uidListHead = "mailwire-uidlist 1"
)

// uidList is the parsed UID list of one folder.
type uidList struct {
	validity uint32
	next     uint32
	uids     map[string]uint32
}

// UIDValidity returns the folder's UIDVALIDITY and the UID the next new
// message will get, creating the UID list if needed.
//
// RFC 3501 §2.3.1.1: UIDs are strictly ascending, never reused within a
// UIDVALIDITY, and persist across sessions. The list is replaced
// atomically (temporary file, fsync, rename, directory fsync) under the
// folder lock. If it is lost or unreadable, a new one is started with a new
// UIDVALIDITY, which tells IMAP clients to discard what they cached; the
// new value is above the old one whenever that can still be read.
func (d *Dir) UIDValidity() (validity, next uint32, err error) {
	unlock, err := d.lock()
	if err != nil {
		return 0, 0, err
	}
	defer unlock()
	ents, err := d.scan()
	if err != nil {
		return 0, 0, err
	}
	ul, err := d.loadUIDs(ents)
	if err != nil {
		return 0, 0, err
	}
	return ul.validity, ul.next, nil
}

// loadUIDs reads the UID list, gives UIDs to keys it lacks in key order of
// discovery (sorted, so deliveries get UIDs in time order), drops keys that
// are gone and writes the list back if it changed. The caller holds the lock.
func (d *Dir) loadUIDs(ents map[string]entry) (*uidList, error) {
	b, err := os.ReadFile(filepath.Join(d.path, uidListFile))
	var ul *uidList
	if err == nil {
		ul, err = parseUIDList(b)
	}
	changed := false
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, errCorrupt) {
			return nil, err
		}
		// A corrupt list whose header is intact tells the UIDVALIDITY
		// the new one must exceed.
		ul = &uidList{validity: newValidity(headValidity(b)), next: 1, uids: map[string]uint32{}}
		changed = true
	}
	// A key the list has but the scan lacks was removed, or renamed by a
	// program that does not take our lock while readdir ran, which may
	// then miss the entry. Read the directories again before giving up
	// a UID: a message must not come back under a new one.
	for k := range ul.uids {
		if _, ok := ents[k]; !ok {
			again, err := d.scan()
			if err != nil {
				return nil, err
			}
			for k, e := range again {
				if _, ok := ents[k]; !ok {
					ents[k] = e
				}
			}
			break
		}
	}
	for k := range ul.uids {
		if _, ok := ents[k]; !ok {
			delete(ul.uids, k)
			changed = true
		}
	}
	var fresh []string
	for k := range ents {
		if _, ok := ul.uids[k]; !ok {
			fresh = append(fresh, k)
		}
	}
	if len(fresh) > 0 {
		// Unique names start with the delivery time in seconds, and the
		// microseconds follow; sorting by them keeps UIDs in arrival order.
		sortKeys(fresh)
		for _, k := range fresh {
			if ul.next == 0 { // UID space exhausted: start over
				ul = &uidList{validity: newValidity(ul.validity), next: 1, uids: map[string]uint32{}}
				return d.restartUIDs(ul, ents)
			}
			ul.uids[k] = ul.next
			ul.next++
		}
		changed = true
	}
	if changed {
		if err := writeUIDList(d.path, ul); err != nil {
			return nil, err
		}
	}
	return ul, nil
}

func (d *Dir) restartUIDs(ul *uidList, ents map[string]entry) (*uidList, error) {
	keys := make([]string, 0, len(ents))
	for k := range ents {
		keys = append(keys, k)
	}
	sortKeys(keys)
	for _, k := range keys {
		ul.uids[k] = ul.next
		ul.next++
	}
	return ul, writeUIDList(d.path, ul)
}

// sortKeys orders keys by arrival: by the leading seconds, then by the
// microseconds of an "M<usec>" field, then by name.
func sortKeys(keys []string) {
	type when struct{ sec, usec int64 }
	at := func(k string) when {
		sec, rest, ok := strings.Cut(k, ".")
		if !ok {
			return when{}
		}
		var w when
		w.sec, _ = strconv.ParseInt(sec, 10, 64)
		if rest, ok := strings.CutPrefix(rest, "M"); ok {
			i := 0
			for i < len(rest) && i < 9 && '0' <= rest[i] && rest[i] <= '9' {
				i++
			}
			w.usec, _ = strconv.ParseInt(rest[:i], 10, 64)
		}
		return w
	}
	sortSlice(keys, func(a, b string) bool {
		wa, wb := at(a), at(b)
		if wa != wb {
			if wa.sec != wb.sec {
				return wa.sec < wb.sec
			}
			return wa.usec < wb.usec
		}
		return a < b
	})
}

var validityClock = func() time.Time { return time.Now() }

// newValidity returns the UIDVALIDITY of a UID list started over, given
// that of the list it replaces (0 when unknown). It comes from the clock, as
// most servers do, but stays above old whatever the clock says (it may have
// been set back, or the old list started in the same second): RFC 3501
// §2.3.1.1 says that when UIDs fail to persist, the new value "MUST be
// greater". It is never zero (RFC 3501 §9: nz-number).
func newValidity(old uint32) uint32 {
	v := uint32(validityClock().Unix())
	if v <= old && old < math.MaxUint32 {
		v = old + 1
	}
	if v == 0 {
		v = 1
	}
	return v
}

// headValidity returns the UIDVALIDITY in the header line of a UID list
// that may be corrupt further on, or 0.
func headValidity(b []byte) uint32 {
	line, _, _ := bytes.Cut(b[:min(len(b), maxUIDLine)], []byte("\n"))
	head := strings.Fields(string(line))
	if len(head) < 3 || head[0]+" "+head[1] != uidListHead {
		return 0
	}
	v, err := strconv.ParseUint(head[2], 10, 32)
	if err != nil {
		return 0
	}
	return uint32(v)
}

var errCorrupt = errors.New("maildir: corrupt UID list")

// maxUIDLine bounds a line of the UID list with its line feed; a longer one
// makes the list corrupt. Keys are file names, which no file system allows
// this long.
const maxUIDLine = 64 << 10

// parseUIDList parses:
//
//	mailwire-uidlist 1 VALIDITY NEXT
//	UID KEY
//	...
//
// VALIDITY and UIDs are non-zero 32-bit numbers and every UID is below NEXT,
// unless NEXT is 0, which means the UID space is used up. A key or a UID
// appearing twice, a line longer than maxUIDLine or anything else out of
// place makes the whole list corrupt (errCorrupt): UIDs that cannot be
// trusted to be unique must not be served.
func parseUIDList(b []byte) (*uidList, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, maxUIDLine)
	if !sc.Scan() {
		return nil, errCorrupt
	}
	head := strings.Fields(sc.Text())
	if len(head) != 4 || head[0]+" "+head[1] != uidListHead {
		return nil, errCorrupt
	}
	v, err1 := strconv.ParseUint(head[2], 10, 32)
	n, err2 := strconv.ParseUint(head[3], 10, 32)
	if err1 != nil || err2 != nil || v == 0 {
		return nil, errCorrupt
	}
	ul := &uidList{validity: uint32(v), next: uint32(n), uids: map[string]uint32{}}
	used := map[uint32]bool{}
	for sc.Scan() {
		uid, key, ok := strings.Cut(sc.Text(), " ")
		u, err := strconv.ParseUint(uid, 10, 32)
		if !ok || err != nil || u == 0 || (ul.next != 0 && uint32(u) >= ul.next) || !validKey(key) {
			return nil, errCorrupt
		}
		if _, dup := ul.uids[key]; dup || used[uint32(u)] {
			return nil, errCorrupt
		}
		ul.uids[key] = uint32(u)
		used[uint32(u)] = true
	}
	if sc.Err() != nil {
		return nil, errCorrupt
	}
	return ul, nil
}

// marshal formats ul as parseUIDList reads it, in UID order.
func (ul *uidList) marshal() []byte {
	keys := make([]string, 0, len(ul.uids))
	for k := range ul.uids {
		keys = append(keys, k)
	}
	sortSlice(keys, func(a, b string) bool { return ul.uids[a] < ul.uids[b] })
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "%s %d %d\n", uidListHead, ul.validity, ul.next)
	for _, k := range keys {
		fmt.Fprintf(&buf, "%d %s\n", ul.uids[k], k)
	}
	return buf.Bytes()
}

func writeUIDList(dir string, ul *uidList) error {
	if err := atomicfile.Write(filepath.Join(dir, uidListFile), bytes.NewReader(ul.marshal()), 0o600); err != nil {
		return fmt.Errorf("maildir: write %s: %w", uidListFile, err)
	}
	return nil
}

func sortSlice(s []string, less func(a, b string) bool) {
	sort.Slice(s, func(i, j int) bool { return less(s[i], s[j]) })
}

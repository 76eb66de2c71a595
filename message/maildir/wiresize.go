package maildir

import (
	"bufio"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mailwire/mailwire/internal/atomicfile"
	"github.com/mailwire/mailwire/internal/textline"
)

// WireSize returns the size of the message read from r with CRLF line
// ends: its length plus one for every LF not preceded by a CR. It is the
// size a POP3 server reports in LIST and STAT (RFC 1939 §5, "the exact
// size of the message") and an IMAP server in RFC822.SIZE (RFC 3501
// §2.3.4), for messages stored with LF line ends, and the value of the
// ",W=" field of Maildir++ file names. Like Dovecot's virtual size, it adds
// nothing for a last line without a line end (the CRLF a POP3 server sends
// before its terminator is not part of the message), and a CR not followed
// by LF counts as one octet.
func WireSize(r io.Reader) (int64, error) {
	var c textline.CRLFCounter
	if _, err := io.Copy(&c, r); err != nil {
		return 0, err
	}
	return c.N, nil
}

// WireSizeCacheFile is the file in a Maildir (or folder) where
// FillWireSizes remembers the wire sizes of messages whose names carry no
// ",W=" field, so that each is read only once to learn it. It is a cache:
// losing it costs time, never correctness.
const WireSizeCacheFile = "mailwire-wiresizes"

// FillWireSizes sets the WireSize of every message in msgs (from List) that
// lacks one, which is the case when a program other than this package
// delivered it without a ",W=" field: from the folder's cache
// (WireSizeCacheFile) when it has the key, else by reading the message once
// with WireSize and adding it to the cache. A message that is gone by then
// keeps WireSize -1. The cache is rewritten when it changed, without the
// keys of messages that List no longer finds; it is not fsynced.
//
// It stops with ctx's error when ctx ends, leaving the sizes it had not yet
// counted at -1.
func (d *Dir) FillWireSizes(ctx context.Context, msgs []Message) error {
	cache := d.readSizeCache(len(msgs))
	dirty := false
	for i := range msgs {
		m := &msgs[i]
		if m.WireSize >= 0 {
			continue
		}
		if s, ok := cache[m.Key]; ok {
			m.WireSize = s
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		size, err := d.countWireSize(m.Key)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed meanwhile
		}
		if err != nil {
			return err
		}
		m.WireSize = size
		if cacheable(m.Key) {
			cache[m.Key] = size
			dirty = true
		}
	}
	// Drop the entries of messages that are gone: neither in msgs nor in
	// the names the last scan found.
	listed := make(map[string]bool, len(msgs))
	for _, m := range msgs {
		listed[m.Key] = true
	}
	d.mu.Lock()
	for k := range cache {
		if _, ok := d.names[k]; !ok && !listed[k] {
			delete(cache, k)
			dirty = true
		}
	}
	d.mu.Unlock()
	if dirty {
		d.writeSizeCache(cache)
	}
	return nil
}

func (d *Dir) countWireSize(key string) (int64, error) {
	f, err := d.Open(key)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return WireSize(f)
}

// cacheable reports whether a key can be a line of the cache.
func cacheable(key string) bool { return !strings.ContainsAny(key, " \r\n") }

// readSizeCache loads the size cache, whose lines are "KEY SIZE". A missing
// or damaged file yields what could be read; a huge one is read only as far
// as the folder could need.
func (d *Dir) readSizeCache(n int) map[string]int64 {
	cache := make(map[string]int64, n)
	f, err := os.Open(filepath.Join(d.path, WireSizeCacheFile))
	if err != nil {
		return cache
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() && len(cache) <= 2*n+1024 {
		key, size, ok := strings.Cut(sc.Text(), " ")
		if !ok || !validKey(key) || !cacheable(key) {
			continue
		}
		if v, err := strconv.ParseInt(size, 10, 64); err == nil && v >= 0 {
			cache[key] = v
		}
	}
	return cache
}

// writeSizeCache replaces the cache through a temporary file renamed over
// it, so readers never see half of it. Being a cache, it is neither fsynced
// nor is a failure reported.
func (d *Dir) writeSizeCache(cache map[string]int64) {
	keys := make([]string, 0, len(cache))
	for k := range cache {
		keys = append(keys, k)
	}
	sortKeys(keys)
	f, err := atomicfile.New(filepath.Join(d.path, WireSizeCacheFile), 0o600)
	if err != nil {
		return
	}
	defer f.Abort()
	w := bufio.NewWriter(f)
	for _, k := range keys {
		w.WriteString(k)
		w.WriteByte(' ')
		w.WriteString(strconv.FormatInt(cache[k], 10))
		w.WriteByte('\n')
	}
	if w.Flush() == nil {
		_ = f.Rename("")
	}
}

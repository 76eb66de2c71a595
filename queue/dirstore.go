package queue

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailwire/mailwire/internal/atomicfile"
)

// DirStore is a durable Store in one directory of the file system.
//
// Each message is one file, <id>.msg, written once: a header line, the
// envelope as JSON, the body, and a trailer holding the body's length and
// CRC-32. It is written under a temporary name, fsynced, put in place and the
// directory fsynced before Put returns, so a message Put acknowledged
// survives a crash and a message it did not is either whole or absent.
// The delivery state that changes later (recipients' outcomes, attempts,
// next attempt time) goes to <id>.state, replaced atomically on each change.
//
// Group commit: concurrent Puts share their flushes. The first Put to finish
// writing becomes the leader of a batch; it flushes the data of every file in
// the batch (one syncfs(2) on Linux, else an fsync per file), links them all
// into place and fsyncs the directory once; the Puts that arrived meanwhile
// form the next batch. No Put returns before its own batch is flushed.
//
// OpenDirStore recovers every message found: leftover temporary files are
// removed, a state file without its message is removed, and a message file
// that does not decode (which an atomic rename should make impossible) is
// renamed to <id>.corrupt and logged.
type DirStore struct {
	dir  string
	opts DirOptions

	mu      sync.Mutex
	entries map[ID]*dirEntry

	cmu        sync.Mutex
	pending    []*commitReq
	committing bool
}

// DirOptions configures a DirStore.
type DirOptions struct {
	// NoGroupCommit makes each Put flush its own file and the directory,
	// one after the other: slower under concurrency, for comparison.
	NoGroupCommit bool
	// Logger receives recovery problems; nil discards them.
	Logger *slog.Logger
}

type dirEntry struct {
	wmu     sync.Mutex // serialises state file writes
	env     *Envelope
	bodyOff int64
	bodyLen int64
	bodyCRC uint32
}

var _ Store = (*DirStore)(nil)

const (
	entryMagic      = "mailwire-queue 1 "
	trailerLen      = 33 // "MWQEND " + 16 hex + " " + 8 hex + "\n"
	maxEnvelopeJSON = 4 << 20
)

// OpenDirStore opens (creating it if needed) the store in dir and recovers
// the messages there.
func OpenDirStore(dir string, opts *DirOptions) (*DirStore, error) {
	s := &DirStore{dir: dir, entries: make(map[ID]*dirEntry)}
	if opts != nil {
		s.opts = *opts
	}
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o700); err != nil {
		return nil, err
	}
	if err := s.recover(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *DirStore) logger() *slog.Logger {
	if s.opts.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.opts.Logger
}

func (s *DirStore) path(id ID, ext string) string {
	return filepath.Join(s.dir, string(id)+ext)
}

func (s *DirStore) recover() error {
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	// tmp/ holds only files of Puts that never finished.
	if tmps, err := os.ReadDir(filepath.Join(s.dir, "tmp")); err == nil {
		for _, de := range tmps {
			os.Remove(filepath.Join(s.dir, "tmp", de.Name()))
		}
	}
	states := map[ID]string{}
	for _, de := range des {
		name := de.Name()
		switch {
		case strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp"):
			// A Put or state write that never finished.
			os.Remove(filepath.Join(s.dir, name))
		case strings.HasSuffix(name, ".msg"):
			id := ID(strings.TrimSuffix(name, ".msg"))
			e, err := s.load(id)
			if err != nil {
				s.logger().Error("queue: undecodable message file set aside", "file", name, "err", err)
				os.Rename(s.path(id, ".msg"), s.path(id, ".corrupt"))
				continue
			}
			s.entries[id] = e
		case strings.HasSuffix(name, ".state"):
			states[ID(strings.TrimSuffix(name, ".state"))] = name
		}
	}
	for id, name := range states {
		e, ok := s.entries[id]
		if !ok {
			os.Remove(filepath.Join(s.dir, name))
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.dir, name))
		var st Envelope
		if err == nil {
			err = json.Unmarshal(b, &st)
		}
		if err != nil || st.ID != id {
			s.logger().Error("queue: undecodable state file ignored", "file", name, "err", err)
			continue
		}
		applyState(e.env, &st)
	}
	return atomicfile.SyncDir(s.dir)
}

func (s *DirStore) load(id ID) (*dirEntry, error) {
	if !ValidID(id) {
		return nil, ErrInvalidID
	}
	f, err := os.Open(s.path(id, ".msg"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	e, err := decodeEntry(f, fi.Size())
	if err != nil {
		return nil, err
	}
	if e.env.ID != id {
		return nil, fmt.Errorf("queue: entry names ID %q", e.env.ID)
	}
	return e, nil
}

// decodeEntry reads the header and trailer of a message file of the given
// size.
func decodeEntry(r io.ReaderAt, size int64) (*dirEntry, error) {
	bad := func(what string) error { return fmt.Errorf("queue: malformed entry: %s", what) }
	first := make([]byte, min(size, 64))
	if _, err := r.ReadAt(first, 0); err != nil {
		return nil, err
	}
	nl := bytes.IndexByte(first, '\n')
	if nl < 0 || !bytes.HasPrefix(first, []byte(entryMagic)) {
		return nil, bad("header line")
	}
	digits := string(first[len(entryMagic):nl])
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n <= 0 || n > maxEnvelopeJSON || strconv.FormatInt(n, 10) != digits {
		return nil, bad("envelope length")
	}
	off := int64(nl + 1)
	if off+n+1+trailerLen > size {
		return nil, bad("truncated")
	}
	js := make([]byte, n+1)
	if _, err := r.ReadAt(js, off); err != nil {
		return nil, err
	}
	if js[n] != '\n' {
		return nil, bad("envelope end")
	}
	var env Envelope
	if err := json.Unmarshal(js[:n], &env); err != nil {
		return nil, bad("envelope: " + err.Error())
	}
	if !ValidID(env.ID) {
		return nil, bad("ID")
	}
	bodyOff := off + n + 1
	tr := make([]byte, trailerLen)
	if _, err := r.ReadAt(tr, size-trailerLen); err != nil {
		return nil, err
	}
	blen, crc, ok := parseTrailer(tr)
	if !ok || blen != size-trailerLen-bodyOff {
		return nil, bad("trailer")
	}
	env.Size = blen
	return &dirEntry{env: &env, bodyOff: bodyOff, bodyLen: blen, bodyCRC: crc}, nil
}

func formatTrailer(n int64, crc uint32) []byte {
	return fmt.Appendf(nil, "MWQEND %016x %08x\n", n, crc)
}

func parseTrailer(b []byte) (int64, uint32, bool) {
	if len(b) != trailerLen || string(b[:7]) != "MWQEND " || b[23] != ' ' || b[32] != '\n' {
		return 0, 0, false
	}
	n, err1 := strconv.ParseUint(string(b[7:23]), 16, 63)
	c, err2 := strconv.ParseUint(string(b[24:32]), 16, 32)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return int64(n), uint32(c), true
}

type countingHash struct {
	h hash.Hash32
	n int64
}

func (c *countingHash) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.h.Write(p)
}

// Put implements Store. It returns once the message file and its directory
// entry are on stable storage.
func (s *DirStore) Put(ctx context.Context, env *Envelope, body io.Reader) (ID, error) {
	e := env.Clone()
	if e.ID == "" {
		e.ID = NewID(time.Now())
	} else if !ValidID(e.ID) {
		return "", ErrInvalidID
	}
	if e.Arrival.IsZero() {
		e.Arrival = time.Now()
	}
	e.LeaseUntil, e.Size = time.Time{}, 0
	js, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	dst := s.path(e.ID, ".msg")
	// The temporary file is made in tmp/, so that creating it does not
	// wait on the flushes of the message directory.
	f, err := atomicfile.New(filepath.Join(s.dir, "tmp", string(e.ID)+".msg"), 0o600)
	if err != nil {
		return "", err
	}
	defer f.Abort()
	bw := bufio.NewWriterSize(f, 32<<10)
	fmt.Fprintf(bw, "%s%d\n", entryMagic, len(js))
	bw.Write(js)
	bw.WriteByte('\n')
	bodyOff := int64(len(entryMagic) + len(strconv.Itoa(len(js))) + 1 + len(js) + 1)
	ch := &countingHash{h: crc32.NewIEEE()}
	if _, err := io.Copy(io.MultiWriter(bw, ch), body); err != nil {
		return "", err
	}
	crc := ch.h.Sum32()
	bw.Write(formatTrailer(ch.n, crc))
	if err := bw.Flush(); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := s.commit(f, dst); err != nil {
		return "", err
	}
	e.Size = ch.n
	s.mu.Lock()
	s.entries[e.ID] = &dirEntry{env: e, bodyOff: bodyOff, bodyLen: ch.n, bodyCRC: crc}
	s.mu.Unlock()
	return e.ID, nil
}

type commitReq struct {
	f    *atomicfile.File
	dst  string
	err  error
	lead bool
	wake chan struct{}
}

// commit puts f in place at dst durably, sharing the flushes with the
// concurrent commits.
func (s *DirStore) commit(f *atomicfile.File, dst string) error {
	if s.opts.NoGroupCommit {
		if err := f.Sync(); err != nil {
			return err
		}
		if err := f.Link(dst); err != nil {
			return err
		}
		if err := atomicfile.SyncDir(s.dir); err != nil {
			os.Remove(dst)
			return err
		}
		return nil
	}
	req := &commitReq{f: f, dst: dst, wake: make(chan struct{})}
	s.cmu.Lock()
	s.pending = append(s.pending, req)
	if s.committing {
		s.cmu.Unlock()
		<-req.wake
		if !req.lead {
			return req.err
		}
		s.cmu.Lock()
	}
	// This goroutine leads the next batch, which holds its own request.
	s.committing = true
	batch := s.pending
	s.pending = nil
	s.cmu.Unlock()

	s.flush(batch)

	s.cmu.Lock()
	if len(s.pending) > 0 {
		next := s.pending[0]
		next.lead = true
		close(next.wake)
	} else {
		s.committing = false
	}
	s.cmu.Unlock()
	for _, r := range batch {
		if r != req {
			close(r.wake)
		}
	}
	return req.err
}

// flush makes the batch's files durable and puts them in place: their data
// flushed, each linked to its name, the directory flushed once.
func (s *DirStore) flush(batch []*commitReq) {
	if err := syncData(batch); err != nil {
		for _, r := range batch {
			r.err = err
		}
		return
	}
	placed := batch[:0:0]
	for _, r := range batch {
		if r.err = r.f.Link(r.dst); r.err == nil {
			placed = append(placed, r)
		}
	}
	if len(placed) == 0 {
		return
	}
	if err := atomicfile.SyncDir(s.dir); err != nil {
		for _, r := range placed {
			os.Remove(r.dst)
			r.err = err
		}
	}
}

// syncData flushes the data of the batch's files: one syncfs where the
// platform has it, else an fsync per file, concurrently, so the file
// system can merge them.
func syncData(batch []*commitReq) error {
	if ok, err := syncFS(batch[0].f.OS()); ok {
		return err
	}
	if len(batch) == 1 {
		return batch[0].f.Sync()
	}
	errs := make([]error, len(batch))
	var wg sync.WaitGroup
	for i, r := range batch {
		wg.Go(func() { errs[i] = r.f.Sync() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (s *DirStore) get(id ID) (*dirEntry, error) {
	if !ValidID(id) {
		return nil, ErrInvalidID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[id]
	if !ok {
		return nil, ErrNotFound
	}
	return e, nil
}

// Lease implements Store. Leases live in memory only.
func (s *DirStore) Lease(ctx context.Context, now time.Time, limit int, until time.Time) ([]*Envelope, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := make([]*Envelope, 0, len(s.entries))
	for _, e := range s.entries {
		all = append(all, e.env)
	}
	picked := pickDue(all, now, limit)
	out := make([]*Envelope, len(picked))
	for i, e := range picked {
		e.LeaseUntil = until
		out[i] = e.Clone()
	}
	return out, nil
}

// saveState writes the state file of e, the caller holding e.wmu.
func (s *DirStore) saveState(id ID, env *Envelope) error {
	js, err := json.Marshal(env)
	if err != nil {
		return err
	}
	return atomicfile.Write(s.path(id, ".state"), bytes.NewReader(js), 0o600)
}

// modify applies f to a copy of the envelope of id, writes the result
// durably, and only then makes it the store's view.
func (s *DirStore) modify(id ID, f func(*Envelope)) error {
	e, err := s.get(id)
	if err != nil {
		return err
	}
	e.wmu.Lock()
	defer e.wmu.Unlock()
	s.mu.Lock()
	n := e.env.Clone()
	s.mu.Unlock()
	f(n)
	if err := s.saveState(id, n); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.entries[id]; !ok {
		// Removed meanwhile.
		os.Remove(s.path(id, ".state"))
		return ErrNotFound
	}
	f(e.env)
	return nil
}

// Update implements Store.
func (s *DirStore) Update(ctx context.Context, env *Envelope) error {
	return s.modify(env.ID, func(e *Envelope) { applyState(e, env) })
}

// Release implements Store.
func (s *DirStore) Release(ctx context.Context, id ID, next time.Time) error {
	return s.modify(id, func(e *Envelope) { e.Next, e.LeaseUntil = next, time.Time{} })
}

// Remove implements Store. The message file goes first, so that a crash
// leaves at worst a state file, which recovery removes.
func (s *DirStore) Remove(ctx context.Context, id ID) error {
	e, err := s.get(id)
	if err != nil {
		return err
	}
	e.wmu.Lock()
	defer e.wmu.Unlock()
	s.mu.Lock()
	delete(s.entries, id)
	s.mu.Unlock()
	if err := os.Remove(s.path(id, ".msg")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Remove(s.path(id, ".state")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return atomicfile.SyncDir(s.dir)
}

// List implements Store.
func (s *DirStore) List(ctx context.Context) ([]*Envelope, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Envelope, 0, len(s.entries))
	for _, e := range s.entries {
		out = append(out, e.env.Clone())
	}
	sortByArrival(out)
	return out, nil
}

// Get implements Store.
func (s *DirStore) Get(ctx context.Context, id ID) (*Envelope, error) {
	e, err := s.get(id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return e.env.Clone(), nil
}

// Open implements Store. The body's CRC-32 is checked as it is read: a
// reader that reaches the end of a damaged body returns an error, not EOF.
func (s *DirStore) Open(ctx context.Context, id ID) (io.ReadCloser, error) {
	e, err := s.get(id)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(s.path(id, ".msg"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	return &bodyReader{f: f, r: io.NewSectionReader(f, e.bodyOff, e.bodyLen), h: crc32.NewIEEE(), want: e.bodyCRC}, nil
}

type bodyReader struct {
	f    *os.File
	r    io.Reader
	h    hash.Hash32
	want uint32
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.h.Write(p[:n])
	if err == io.EOF && b.h.Sum32() != b.want {
		return n, errors.New("queue: message body damaged (CRC mismatch)")
	}
	return n, err
}

func (b *bodyReader) Close() error { return b.f.Close() }

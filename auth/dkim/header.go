package dkim

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"hash"
	"io"

	"github.com/mailwire/mailwire/message"
)

// DefaultMaxHeaderBytes bounds the header a Signer or Verifier buffers: the
// header must be known whole before it can be hashed, the body never is.
const DefaultMaxHeaderBytes = 1 << 20

// headerSplitter gathers the header of a message written to it in pieces,
// up to the blank line that ends it.
type headerSplitter struct {
	buf     []byte
	max     int
	lineLen int  // bytes of the current line so far
	lineCR  bool // the current line so far is a lone CR
	done    bool
}

// feed takes bytes of the message and returns how many of them belong to
// the header (all of them unless the blank line was found in p).
func (h *headerSplitter) feed(p []byte) (int, error) {
	i := 0
	for i < len(p) && !h.done {
		j := bytes.IndexByte(p[i:], '\n')
		if j < 0 {
			if h.lineLen == 0 && len(p)-i == 1 && p[i] == '\r' {
				h.lineCR = true
			} else {
				h.lineCR = false
			}
			h.lineLen += len(p) - i
			h.buf = append(h.buf, p[i:]...)
			i = len(p)
			break
		}
		n := h.lineLen + j // the line's length before LF
		blank := n == 0 || n == 1 && (j == 1 && p[i] == '\r' || j == 0 && h.lineCR)
		h.buf = append(h.buf, p[i:i+j+1]...)
		i += j + 1
		h.lineLen, h.lineCR = 0, false
		if blank {
			h.done = true
		}
	}
	if len(h.buf) > h.max {
		return i, ErrHeaderTooLarge
	}
	return i, nil
}

// parseHeader parses a gathered header with package message and returns its
// fields (with their raw bytes) and what of buf is body: everything after
// the blank line, or after a line that is not a field, which ends the header
// as message.ReadHeader explains.
func parseHeader(buf []byte, max int) (*message.Header, []byte, error) {
	rd := bytes.NewReader(buf)
	br := bufio.NewReaderSize(rd, len(buf)+1)
	h, err := message.ReadHeader(br, message.Limits{MaxHeaderBytes: max, MaxFields: max / 2, MaxLineLength: max})
	if err != nil {
		var he *message.HeaderError
		if errors.As(err, &he) && errors.Is(he.Err, message.ErrHeaderTooLarge) {
			return nil, nil, ErrHeaderTooLarge
		}
		return nil, nil, err
	}
	used := len(buf) - br.Buffered() - rd.Len()
	return h, buf[used:], nil
}

// headerIndex finds the fields that h= names, from the bottom of the
// header up (RFC 6376 §5.4.2).
type headerIndex struct {
	h     *message.Header
	names []string // lower-case name of each field
}

func newHeaderIndex(h *message.Header) *headerIndex {
	x := &headerIndex{h: h, names: make([]string, h.Len())}
	for i := range x.names {
		x.names[i] = lower(h.Name(i))
	}
	return x
}

// hashFields writes the canonical form of the fields named in names to w,
// each name taking the last instance not yet used; a name with no instance
// left contributes nothing (RFC 6376 §3.7, §5.4.2).
func (x *headerIndex) hashFields(w io.Writer, names []string, c Canonicalization) {
	used := make(map[string]int, len(names)) // instances used, per name
	var buf []byte
	for _, name := range names {
		ln := lower(name)
		skip := used[ln]
		used[ln]++
		for i := len(x.names) - 1; i >= 0; i-- {
			if x.names[i] != ln {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			buf = appendHeaderCanon(buf[:0], x.h.Field(i).Raw, c)
			w.Write(buf)
			break
		}
	}
}

// count returns the number of fields named name.
func (x *headerIndex) count(name string) int {
	ln, n := lower(name), 0
	for _, s := range x.names {
		if s == ln {
			n++
		}
	}
	return n
}

func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// bodyKey identifies one body hash: canonicalisation, l= (-1 for the whole
// body) and hash. Signatures that agree on all three share one computation.
type bodyKey struct {
	canon Canonicalization
	limit int64
	hash  string
}

// bodySink hashes the first limit bytes of the canonical body and counts
// all of them.
type bodySink struct {
	h     hash.Hash
	limit int64 // -1: no limit
	n     int64 // canonical bytes seen
}

func (s *bodySink) Write(p []byte) (int, error) {
	q := p
	if s.limit >= 0 {
		if room := s.limit - s.n; room < int64(len(q)) {
			q = q[:max(room, 0)]
		}
	}
	s.h.Write(q)
	s.n += int64(len(p))
	return len(p), nil
}

// unsigned returns the canonical body bytes beyond l=.
func (s *bodySink) unsigned() int64 {
	if s.limit < 0 || s.n <= s.limit {
		return 0
	}
	return s.n - s.limit
}

// fanout writes to several sinks.
type fanout []*bodySink

func (f fanout) Write(p []byte) (int, error) {
	for _, s := range f {
		s.Write(p)
	}
	return len(p), nil
}

// bodyHashes computes every body hash a message needs in one pass: one
// canonicaliser per canonicalisation, feeding the hashes that use it.
type bodyHashes struct {
	sinks   map[bodyKey]*bodySink
	canons  []*bodyCanon
	started bool
}

// add registers a body hash and returns its sink; only sha256 is known.
func (b *bodyHashes) add(k bodyKey) *bodySink {
	if b.sinks == nil {
		b.sinks = make(map[bodyKey]*bodySink)
	}
	if s, ok := b.sinks[k]; ok {
		return s
	}
	s := &bodySink{h: sha256.New(), limit: k.limit}
	b.sinks[k] = s
	return s
}

func (b *bodyHashes) start() {
	b.started = true
	for _, c := range []Canonicalization{Simple, Relaxed} {
		var f fanout
		for k, s := range b.sinks {
			if k.canon == c {
				f = append(f, s)
			}
		}
		if len(f) > 0 {
			b.canons = append(b.canons, newBodyCanon(f, c))
		}
	}
}

func (b *bodyHashes) Write(p []byte) (int, error) {
	for _, c := range b.canons {
		c.Write(p)
	}
	return len(p), nil
}

func (b *bodyHashes) Close() {
	for _, c := range b.canons {
		c.Close()
	}
}

package message

import (
	"bytes"
	"iter"
	"unsafe"
)

// Header is an ordered list of header fields (RFC 5322 §2.2). Fields read from
// a message keep their original bytes, so a header that is read and written
// back unmodified is byte-for-byte the same. Field names are matched without
// regard to case. The zero Header is empty and ready to use.
//
// Parsed fields live as offsets into one buffer and are unfolded only when a
// value is asked for. That buffer is never written once the header is read,
// so the names and values handed out share its memory where they can: a name,
// or the value of a field written on one line, costs no copy. A Header should
// not be copied once used (copies would share memory); use Clone. Reading
// methods may be called from several goroutines at once; editing needs
// exclusive access.
type Header struct {
	buf    []byte       // raw bytes of the fields that were read
	f      []field      // fields in order
	added  []addedField // names and values of fields added by Add and Set
	sep    []byte       // the blank line that ended the header, as read
	parsed bool         // read from input (sep is then meaningful)
	// crlfs counts the lines in buf that end in CRLF. When buf holds no
	// other CR, every CR ends a line, which lets unfolding look for LF
	// alone.
	crlfs   int32
	defects []Defect
}

// field is one header field. A field that was read refers to buf; a field that
// was added refers to an entry of added, which holds its name and value
// (unfolded); it is folded when written. Fields are kept small because a
// header read from a message has many of them.
type field struct {
	start, end int32 // raw bytes in buf, line endings included
	nameEnd    int32 // end of the name, relative to start (obs WSP excluded)
	colon      int32 // index of the colon, relative to start; -1 if none
	add        int32 // 1 + index in Header.added, or 0 for a field read
}

type addedField struct{ name, value string }

func (h *Header) newField(name, value string) field {
	h.added = append(h.added, addedField{name, value})
	return field{colon: -1, add: int32(len(h.added))}
}

// addedOf returns the name and value of an added field.
func (h *Header) addedOf(f *field) *addedField { return &h.added[f.add-1] }

// Field is a copy of one header field.
type Field struct {
	Name  string // as written, without any white space before the colon
	Value string // unfolded, with leading and trailing white space removed
	// Raw holds the field exactly as read, folding and line endings
	// included; it is nil for a field added or changed after reading. It
	// shares the header's memory, as Name and Value may: it must not be
	// modified.
	Raw []byte
}

// Defect records a problem found while reading a header that did not stop
// the read. Lenient reading never hides data: each repair is recorded here.
type Defect struct {
	Line    int    // 1-based line number in the header
	Problem string // what was wrong and what was done about it
}

func (d Defect) String() string {
	return "line " + itoa(d.Line) + ": " + d.Problem
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

func (h *Header) rawName(f *field) []byte {
	if f.colon < 0 {
		return nil // a nameless field (see Defects)
	}
	return h.buf[f.start : f.start+f.nameEnd]
}

// nameIs reports whether field f has the given name, ignoring ASCII case.
func (h *Header) nameIs(f *field, name string) bool {
	if f.add > 0 {
		return equalFoldString(h.addedOf(f).name, name)
	}
	if f.colon < 0 {
		return false
	}
	return equalFold(h.rawName(f), name)
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if b[i] != s[i] && lower(b[i]) != lower(s[i]) {
			return false
		}
	}
	return true
}

func equalFoldString(a, s string) bool {
	if len(a) != len(s) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i] != s[i] && lower(a[i]) != lower(s[i]) {
			return false
		}
	}
	return true
}

// Len returns the number of fields.
func (h *Header) Len() int { return len(h.f) }

// Name returns the name of the i'th field, 0 ≤ i < Len(), as Field(i).Name
// does, without unfolding the value. It costs no allocation.
func (h *Header) Name(i int) string {
	f := &h.f[i]
	if f.add > 0 {
		return h.addedOf(f).name
	}
	return view(h.rawName(f))
}

// AppendValue appends the unfolded value of the i'th field, 0 ≤ i < Len(), to
// dst and returns the extended slice. It is Field(i).Value without the
// string: a caller that goes through many fields or messages can reuse one
// buffer, and unfold every value without allocating.
func (h *Header) AppendValue(dst []byte, i int) []byte {
	f := &h.f[i]
	if f.add > 0 {
		return append(dst, h.addedOf(f).value...)
	}
	if f.colon < 0 {
		return dst
	}
	return appendUnfoldedBytes(dst, trimWSP(h.buf[f.start+f.colon+1:f.end]))
}

// Field returns the i'th field, 0 ≤ i < Len().
func (h *Header) Field(i int) Field {
	f := &h.f[i]
	if f.add > 0 {
		a := h.addedOf(f)
		return Field{Name: a.name, Value: a.value}
	}
	raw := h.buf[f.start:f.end:f.end]
	return Field{Name: view(h.rawName(f)), Value: h.value(f), Raw: raw}
}

// view returns b, which lies in a Header's buffer, as a string sharing its
// memory. That is safe because the buffer is never written once read (see
// Header), and it makes names and one-line values free.
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// All iterates over the fields in order, yielding each name and unfolded
// value.
func (h *Header) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		// Names, and the values of fields written on one line, are
		// views of the buffer. The unfolded values of the others are
		// appended to one slice, sized for them all before the first
		// is written, and handed out as views of it: one allocation
		// however many fields are folded. Bytes once appended are never
		// written again, so a value can be handed out as soon as it is
		// written.
		fs, buf := h.f, h.buf // as they are now, whatever yield does to h
		onlyCRLF := int(h.crlfs) == bytes.Count(buf, cr)
		// The first pass sizes the string and notes the folded fields
		// (of the first 64; the others are looked at again).
		var folds uint64
		size := 0
		for i := range fs {
			if v, folded := h.rawValue(&fs[i], onlyCRLF); folded {
				size += len(v)
				if i < 64 {
					folds |= 1 << i
				}
			}
		}
		b := make([]byte, 0, size)
		for i := range fs {
			f := &fs[i]
			var name, value string
			switch {
			case f.add > 0:
				a := h.addedOf(f)
				name, value = a.name, a.value
			case f.colon >= 0:
				name = view(buf[f.start : f.start+f.nameEnd])
				var v []byte
				folded := i >= 64 || folds&(1<<i) != 0
				if folded {
					v, folded = h.rawValue(f, onlyCRLF)
				} else {
					v = trimWSP(buf[f.start+f.colon+1 : f.end])
				}
				if !folded {
					value = view(v)
					break
				}
				from := len(b)
				if onlyCRLF {
					b = appendUnfoldedLF(b, v)
				} else {
					b = appendUnfoldedBytes(b, v)
				}
				value = view(b[from:])
			}
			if !yield(name, value) {
				return
			}
		}
	}
}

// rawValue returns the value of a field that was read, without white space
// and line ends at either end, and whether it holds line ends (or CRs) to be
// removed. With onlyCRLF, the header's only CRs end lines, and an LF alone
// tells.
func (h *Header) rawValue(f *field, onlyCRLF bool) (v []byte, folded bool) {
	if f.add > 0 || f.colon < 0 {
		return nil, false
	}
	v = trimWSP(h.buf[f.start+f.colon+1 : f.end])
	folded = bytes.IndexByte(v, '\n') >= 0 || !onlyCRLF && bytes.IndexByte(v, '\r') >= 0
	return v, folded
}

// Defects returns the problems found while reading the header.
func (h *Header) Defects() []Defect { return h.defects }

// value returns the unfolded value of f (RFC 5322 §2.2.3: unfolding removes
// each CRLF that is followed by WSP), with leading and trailing white space
// removed. Bare CR and LF line ends are removed in the same way.
func (h *Header) value(f *field) string {
	if f.add > 0 {
		return h.addedOf(f).value
	}
	if f.colon < 0 {
		return ""
	}
	v, folded := h.rawValue(f, false)
	if !folded {
		return view(v)
	}
	// A new slice that nothing writes again: a view of it is safe.
	return view(unfold(v))
}

// ValueBytes is like Get but returns the unfolded value of the first field
// with the name as a byte slice, sharing the header's memory when the value is
// not folded. The caller must not modify it.
func (h *Header) ValueBytes(name string) []byte {
	for i := range h.f {
		f := &h.f[i]
		if !h.nameIs(f, name) {
			continue
		}
		if f.add > 0 {
			return []byte(h.addedOf(f).value)
		}
		v := trimWSP(h.buf[f.start+f.colon+1 : f.end])
		if bytes.IndexByte(v, '\n') < 0 && bytes.IndexByte(v, '\r') < 0 {
			return v
		}
		return unfold(v)
	}
	return nil
}

func isWSP(c byte) bool { return c == ' ' || c == '\t' }

// trimWSP removes white space and line ends at both ends of b.
func trimWSP(b []byte) []byte {
	i, j := trimBounds(b)
	return b[i:j]
}

// trimBounds returns the bounds of b without white space and line ends at
// either end.
func trimBounds(b []byte) (i, j int) {
	i, j = 0, len(b)
	for i < j && (isWSP(b[i]) || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	for j > i && (isWSP(b[j-1]) || b[j-1] == '\r' || b[j-1] == '\n') {
		j--
	}
	return i, j
}

// appendUnfoldedLF is appendUnfoldedBytes for a v whose every CR is
// followed by an LF: it cuts at each LF only.
func appendUnfoldedLF(dst, v []byte) []byte {
	for {
		k := bytes.IndexByte(v, '\n')
		if k < 0 {
			return append(dst, v...)
		}
		e := k
		if e > 0 && v[e-1] == '\r' {
			e--
		}
		dst = append(dst, v[:e]...)
		v = v[k+1:]
	}
}

// appendUnfoldedBytes appends v to dst with its CR and LF bytes removed
// (RFC 5322 §2.2.3, and bare CR and LF line ends alike).
func appendUnfoldedBytes(dst, v []byte) []byte {
	for len(v) > 0 {
		k := bytes.IndexByte(v, '\n')
		if k < 0 {
			k = len(v)
		}
		line := v[:k]
		for {
			c := bytes.IndexByte(line, '\r')
			if c < 0 {
				break
			}
			dst = append(dst, line[:c]...)
			line = line[c+1:]
		}
		dst = append(dst, line...)
		v = v[min(k+1, len(v)):]
	}
	return dst
}

// unfold removes line ends from v, which has no leading or trailing ones.
func unfold(v []byte) []byte {
	return appendUnfoldedBytes(make([]byte, 0, len(v)), v)
}

// Get returns the unfolded value of the first field with the given name, or
// "" if there is none.
func (h *Header) Get(name string) string {
	for i := range h.f {
		if h.nameIs(&h.f[i], name) {
			return h.value(&h.f[i])
		}
	}
	return ""
}

// Values returns the unfolded values of all fields with the given name, in
// order.
func (h *Header) Values(name string) []string {
	var vs []string
	for i := range h.f {
		if h.nameIs(&h.f[i], name) {
			vs = append(vs, h.value(&h.f[i]))
		}
	}
	return vs
}

// Has reports whether the header has a field with the given name.
func (h *Header) Has(name string) bool {
	for i := range h.f {
		if h.nameIs(&h.f[i], name) {
			return true
		}
	}
	return false
}

// Count returns the number of fields with the given name.
func (h *Header) Count(name string) int {
	n := 0
	for i := range h.f {
		if h.nameIs(&h.f[i], name) {
			n++
		}
	}
	return n
}

// Add appends a field. The value is unfolded; it is folded when the header is
// written. An ASCII value is written as given, so a value from Get (encoded
// words and all) can be put back unchanged; non-ASCII text is RFC 2047
// encoded when written (see NewWriter). To store text that merely looks like
// an encoded word, pass it through EncodeText. Values are checked when
// written: a CR or LF in a name or value is an error then.
func (h *Header) Add(name, value string) {
	h.f = append(h.f, h.newField(name, value))
}

// Set replaces the first field with the given name by one with the given
// value, in its place, and removes the others; if there is none, it appends
// the field.
func (h *Header) Set(name, value string) {
	found := false
	out := h.f[:0]
	for i := range h.f {
		f := h.f[i]
		if h.nameIs(&f, name) {
			if found {
				continue
			}
			found = true
			if f.add > 0 {
				// Reuse the entry, so that setting a field over and
				// over does not grow the header.
				*h.addedOf(&f) = addedField{name, value}
			} else {
				f = h.newField(name, value)
			}
		}
		out = append(out, f)
	}
	h.f = out
	if !found {
		h.Add(name, value)
	}
}

// Prepend inserts a field before all others, as trace fields are added
// (RFC 5322 §3.6.7).
func (h *Header) Prepend(name, value string) {
	h.f = append(h.f, field{})
	copy(h.f[1:], h.f)
	h.f[0] = h.newField(name, value)
}

// Del removes all fields with the given name.
func (h *Header) Del(name string) {
	out := h.f[:0]
	for i := range h.f {
		if !h.nameIs(&h.f[i], name) {
			out = append(out, h.f[i])
		}
	}
	clear(h.f[len(out):])
	h.f = out
}

// Clone returns a copy of h that shares no memory with it.
func (h *Header) Clone() *Header {
	c := &Header{
		buf:     bytes.Clone(h.buf),
		f:       append([]field(nil), h.f...),
		added:   append([]addedField(nil), h.added...),
		sep:     bytes.Clone(h.sep),
		parsed:  h.parsed,
		defects: append([]Defect(nil), h.defects...),
		crlfs:   h.crlfs,
	}
	return c
}

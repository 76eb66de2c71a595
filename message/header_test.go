package message

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sampleMsg = "Received: from a.example (a.example [192.0.2.1])\r\n" +
	"\tby b.example with ESMTP id 123\r\n" +
	"\tfor <bob@b.example>; Tue, 1 Jul 2003 10:52:37 +0200\r\n" +
	"From: John Doe <jdoe@machine.example>\r\n" +
	"To: Mary Smith <mary@example.net>\r\n" +
	"Subject : Saying Hello\r\n" +
	"X-Empty:\r\n" +
	"Date: Fri, 21 Nov 1997 09:55:06 -0600\r\n" +
	"Message-ID: <1234@local.machine.example>\r\n" +
	"\r\n" +
	"This is a message just to say hello.\r\n" +
	"So, \"Hello\".\r\n"

func TestReadHeader(t *testing.T) {
	m, err := Read(strings.NewReader(sampleMsg))
	require.NoError(t, err)
	h := &m.Header
	assert.Equal(t, 7, h.Len())
	assert.Equal(t, "from a.example (a.example [192.0.2.1])\tby b.example with ESMTP id 123\tfor <bob@b.example>; Tue, 1 Jul 2003 10:52:37 +0200", h.Get("received"))
	assert.Equal(t, "Saying Hello", h.Get("SUBJECT"))
	assert.Equal(t, "Subject", h.Field(3).Name)
	assert.True(t, h.Has("x-empty"))
	assert.Equal(t, "", h.Get("X-Empty"))
	assert.False(t, h.Has("Cc"))
	assert.Empty(t, h.Defects())
	body, err := io.ReadAll(m.Body)
	require.NoError(t, err)
	assert.Equal(t, "This is a message just to say hello.\r\nSo, \"Hello\".\r\n", string(body))

	var names []string
	for n := range h.All() {
		names = append(names, n)
	}
	assert.Equal(t, []string{"Received", "From", "To", "Subject", "X-Empty", "Date", "Message-ID"}, names)

	// Unmodified round trip is byte-identical.
	var out bytes.Buffer
	_, err = h.WriteTo(&out)
	require.NoError(t, err)
	out.Write(body)
	assert.Equal(t, sampleMsg, out.String())
}

func TestReadHeaderBareLF(t *testing.T) {
	in := strings.ReplaceAll(sampleMsg, "\r\n", "\n")
	h, rest, err := parseHeaderBytes([]byte(in))
	require.NoError(t, err)
	assert.Equal(t, 7, h.Len())
	assert.Equal(t, "from a.example (a.example [192.0.2.1])\tby b.example with ESMTP id 123\tfor <bob@b.example>; Tue, 1 Jul 2003 10:52:37 +0200", h.Get("Received"))
	assert.Equal(t, "This is a message just to say hello.\nSo, \"Hello\".\n", string(rest))
	var out bytes.Buffer
	_, err = h.WriteTo(&out)
	require.NoError(t, err)
	out.Write(rest)
	assert.Equal(t, in, out.String())

	// A Writer makes every line end CRLF.
	out.Reset()
	w, err := NewWriter(&out, h, nil)
	require.NoError(t, err)
	_, err = w.Write(rest)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	assert.Equal(t, sampleMsg, out.String())
}

func TestReadHeaderLeavesBody(t *testing.T) {
	br := bufio.NewReader(strings.NewReader("A: 1\r\nB: 2\r\n\r\nbody"))
	h, err := ReadHeader(br, Limits{})
	require.NoError(t, err)
	assert.Equal(t, "2", h.Get("b"))
	rest, _ := io.ReadAll(br)
	assert.Equal(t, "body", string(rest))
}

func TestReadHeaderDefects(t *testing.T) {
	tests := []struct {
		name, in  string
		fields    int
		rest      string
		defects   int
		firstName string
	}{
		{"no colon ends header", "A: 1\r\nnot a field\r\nB: 2\r\n", 1, "not a field\r\nB: 2\r\n", 1, "A"},
		{"space in name", "A: 1\r\nX Y: 2\r\n\r\n", 1, "X Y: 2\r\n\r\n", 1, "A"},
		{"leading continuation", " cont\r\nA: 1\r\n\r\nbody", 2, "body", 1, ""},
		{"no blank line", "A: 1\r\nB: 2", 2, "", 0, "A"},
		{"empty", "", 0, "", 0, ""},
		{"only blank line", "\r\nbody", 0, "body", 0, ""},
		{"8-bit name", "A: 1\r\nN\xe4me: x\r\n\r\n", 1, "N\xe4me: x\r\n\r\n", 1, "A"},
		{"utf8 value", "Subject: caf\xc3\xa9\r\n\r\n", 1, "", 0, "Subject"},
		{"obs wsp before colon", "Subject \t: x\r\n\r\n", 1, "", 0, "Subject"},
		{"bare CR line", "A: 1\r\n\rX\r\n", 1, "\rX\r\n", 1, "A"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, rest, err := parseHeaderBytes([]byte(tc.in))
			require.NoError(t, err)
			assert.Equal(t, tc.fields, h.Len())
			assert.Equal(t, tc.rest, string(rest))
			assert.Len(t, h.Defects(), tc.defects)
			if tc.fields > 0 {
				assert.Equal(t, tc.firstName, h.Field(0).Name)
			}
			// What was read as header plus the rest gives the input back.
			var out bytes.Buffer
			_, err = h.WriteTo(&out)
			require.NoError(t, err)
			if h.Len() > 0 || h.sep != nil {
				out.Write(rest)
				assert.Equal(t, tc.in, out.String())
			}
		})
	}
}

func TestReadHeaderLimits(t *testing.T) {
	many := strings.Repeat("A: 1\r\n", 20) + "\r\n"
	_, err := ReadHeader(bufio.NewReader(strings.NewReader(many)), Limits{MaxFields: 10})
	require.ErrorIs(t, err, ErrTooManyFields)
	var he *HeaderError
	require.True(t, errors.As(err, &he))
	assert.Equal(t, 11, he.Line)

	_, err = ReadHeader(bufio.NewReader(strings.NewReader(many)), Limits{MaxHeaderBytes: 50})
	require.ErrorIs(t, err, ErrHeaderTooLarge)

	long := "A: " + strings.Repeat("x", 10000) + "\r\n\r\n"
	_, err = ReadHeader(bufio.NewReaderSize(strings.NewReader(long), 16), Limits{MaxLineLength: 5000})
	require.ErrorIs(t, err, ErrLineTooLong)
	h, err := ReadHeader(bufio.NewReaderSize(strings.NewReader(long), 16), Limits{})
	require.NoError(t, err)
	assert.Len(t, h.Get("A"), 10000)

	// Folded lines each within the limit are fine.
	folded := "A: " + strings.Repeat("xxxx\r\n ", 100) + "\r\n\r\n"
	h, err = ReadHeader(bufio.NewReader(strings.NewReader(folded)), Limits{MaxLineLength: 10})
	require.NoError(t, err)
	assert.Equal(t, 1, h.Len())

	// Read, which reads without a bufio.Reader, applies the same limits.
	_, err = ReadWithLimits(strings.NewReader(many), Limits{MaxFields: 10})
	require.ErrorIs(t, err, ErrTooManyFields)
	_, err = ReadWithLimits(strings.NewReader(many), Limits{MaxHeaderBytes: 50})
	require.ErrorIs(t, err, ErrHeaderTooLarge)
	_, err = ReadWithLimits(strings.NewReader(long), Limits{MaxLineLength: 5000})
	require.ErrorIs(t, err, ErrLineTooLong)
	huge := strings.Repeat("X: "+strings.Repeat("y", 1000)+"\r\n", 400) + "\r\n"
	_, err = Read(iotest.HalfReader(strings.NewReader(huge)))
	require.ErrorIs(t, err, ErrHeaderTooLarge)
	m, err := Read(iotest.OneByteReader(strings.NewReader(folded + "body")))
	require.NoError(t, err)
	b, _ := io.ReadAll(m.Body)
	assert.Equal(t, "body", string(b))

	// Defaults are documented values.
	l := Limits{}.withDefaults()
	assert.Equal(t, Limits{DefaultMaxHeaderBytes, DefaultMaxFields, DefaultMaxLineLength}, l)
}

func TestHeaderEdit(t *testing.T) {
	h, _, err := parseHeaderBytes([]byte(sampleMsg))
	require.NoError(t, err)
	h.Add("X-New", "one")
	h.Add("x-new", "two")
	assert.Equal(t, []string{"one", "two"}, h.Values("X-NEW"))
	assert.Equal(t, 2, h.Count("x-new"))
	h.Set("Subject", "Changed")
	assert.Equal(t, "Changed", h.Get("subject"))
	assert.Equal(t, "Subject", h.Field(3).Name)
	assert.Nil(t, h.Field(3).Raw)
	h.Del("received")
	assert.False(t, h.Has("Received"))
	h.Prepend("Received", "from x by y; Tue, 1 Jul 2003 10:52:37 +0200")
	assert.Equal(t, "Received", h.Field(0).Name)
	h.Set("New-Field", "v")
	assert.Equal(t, "New-Field", h.Field(h.Len()-1).Name)

	var out bytes.Buffer
	_, err = h.WriteTo(&out)
	require.NoError(t, err)
	assert.Equal(t, "Received: from x by y; Tue, 1 Jul 2003 10:52:37 +0200\r\n"+
		"From: John Doe <jdoe@machine.example>\r\n"+
		"To: Mary Smith <mary@example.net>\r\n"+
		"Subject: Changed\r\n"+
		"X-Empty:\r\n"+
		"Date: Fri, 21 Nov 1997 09:55:06 -0600\r\n"+
		"Message-ID: <1234@local.machine.example>\r\n"+
		"X-New: one\r\nx-new: two\r\nNew-Field: v\r\n\r\n", out.String())

	c := h.Clone()
	c.Set("Subject", "clone")
	assert.Equal(t, "Changed", h.Get("Subject"))
}

func TestEditHeaderWithoutLineEnd(t *testing.T) {
	h, _, err := parseHeaderBytes([]byte("A: 1\r\nB: 2"))
	require.NoError(t, err)
	h.Add("C", "3")
	var out bytes.Buffer
	_, err = h.WriteTo(&out)
	require.NoError(t, err)
	assert.Equal(t, "A: 1\r\nB: 2\r\nC: 3\r\n", out.String())
	again, _, err := parseHeaderBytes(out.Bytes())
	require.NoError(t, err)
	assert.Equal(t, "2", again.Get("B"))
	assert.Equal(t, "3", again.Get("C"))
}

func TestZeroHeader(t *testing.T) {
	var h Header
	assert.Equal(t, "", h.Get("x"))
	assert.Nil(t, h.Values("x"))
	var out bytes.Buffer
	_, err := h.WriteTo(&out)
	require.NoError(t, err)
	assert.Equal(t, "\r\n", out.String())
}

// checkAll checks that All yields what Field does, and that it stops when
// asked to.
func checkAll(t *testing.T, h *Header) {
	t.Helper()
	k := 0
	for name, value := range h.All() {
		if f := h.Field(k); f.Name != name || f.Value != value {
			t.Fatalf("All field %d: %q %q, Field %q %q", k, name, value, f.Name, f.Value)
		}
		k++
	}
	if k != h.Len() {
		t.Fatalf("All yielded %d fields of %d", k, h.Len())
	}
	k = 0
	for range h.All() {
		k++
		break
	}
	if h.Len() > 0 && k != 1 {
		t.Fatalf("All went on after a break")
	}
}

func FuzzReadHeader(f *testing.F) {
	f.Add([]byte(sampleMsg))
	f.Add([]byte(strings.ReplaceAll(sampleMsg, "\r\n", "\n")))
	f.Add([]byte(" x\r\nA: 1\r\n\r\n"))
	f.Add([]byte("A: 1\rB: 2\r\n\r\n"))
	f.Add([]byte("A : 1\r\n\tfolded\r\n\r\nbody"))
	f.Add([]byte("A: x\ry\r\n z\n\tw\r\nB: 2\n\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(in), 16)
		h, err := ReadHeader(br, Limits{MaxHeaderBytes: 1 << 16, MaxLineLength: 1 << 12})
		if err != nil {
			return
		}
		rest, _ := io.ReadAll(br)
		var out bytes.Buffer
		if _, err := h.WriteTo(&out); err != nil {
			t.Fatal(err)
		}
		out.Write(rest)
		// The header adds a CRLF only when it read none and had no fields.
		got := out.Bytes()
		if !bytes.Equal(got, in) && !(bytes.Equal(got, append(append([]byte(nil), in...), "\r\n"...))) {
			t.Fatalf("round trip:\n in %q\nout %q", in, got)
		}
		// Written through a Writer (CRLF line ends), the header reads back
		// as the same fields: no line end is invented that would start a
		// field or end the header.
		var canon bytes.Buffer
		if w, err := NewWriter(&canon, h, nil); err != nil {
			t.Fatal(err)
		} else {
			w.Close()
		}
		h3, _, err := parseHeaderBytes(canon.Bytes())
		if err != nil || h3.Len() != h.Len() || len(h3.Defects()) > len(h.Defects()) {
			t.Fatalf("canonical form of %q is %q: %v", in, canon.Bytes(), err)
		}
		for i := 0; i < h.Len(); i++ {
			if a, b := h.Field(i), h3.Field(i); a.Name != b.Name || a.Value != b.Value {
				t.Fatalf("canonical field %d: %q %q, read %q %q", i, b.Name, b.Value, a.Name, a.Value)
			}
		}
		checkAll(t, h)
		// The buffered fast path and the line-by-line reader agree, except
		// on names longer than the small reader's buffer, which it cannot
		// see whole.
		if longName(in, 16) {
			return
		}
		br2 := bufio.NewReaderSize(bytes.NewReader(in), 1<<17)
		h2, err := ReadHeader(br2, Limits{MaxHeaderBytes: 1 << 16, MaxLineLength: 1 << 12})
		if err != nil {
			t.Fatalf("fast path error %v", err)
		}
		rest2, _ := io.ReadAll(br2)
		if !bytes.Equal(rest, rest2) || h.Len() != h2.Len() || len(h.Defects()) != len(h2.Defects()) || !bytes.Equal(h.sep, h2.sep) {
			t.Fatalf("paths disagree on %q", in)
		}
		for i := 0; i < h.Len(); i++ {
			if !assert.ObjectsAreEqual(h.Field(i), h2.Field(i)) {
				t.Fatalf("field %d: %#v != %#v", i, h.Field(i), h2.Field(i))
			}
		}
		checkAll(t, h2)
		if h.crlfs != h2.crlfs {
			t.Fatalf("CRLF line count %d != %d on %q", h.crlfs, h2.crlfs, in)
		}
		for i, d := range h.Defects() {
			if d != h2.Defects()[i] {
				t.Fatalf("defect %d: %v != %v", i, d, h2.Defects()[i])
			}
		}
		// Read, reading straight from the input in small or large pieces,
		// agrees with ReadHeader.
		for _, r := range []io.Reader{iotest.OneByteReader(bytes.NewReader(in)), iotest.HalfReader(bytes.NewReader(in)), bytes.NewReader(in)} {
			m, err := ReadWithLimits(r, Limits{MaxHeaderBytes: 1 << 16, MaxLineLength: 1 << 12})
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			body, err := io.ReadAll(m.Body)
			if err != nil || !bytes.Equal(body, rest2) {
				t.Fatalf("Read body %q, want %q (%v)", body, rest, err)
			}
			var out2 bytes.Buffer
			m.Header.WriteTo(&out2)
			var out1 bytes.Buffer
			h2.WriteTo(&out1)
			if !bytes.Equal(out1.Bytes(), out2.Bytes()) || m.Header.Len() != h2.Len() || len(m.Header.Defects()) != len(h2.Defects()) {
				t.Fatalf("Read header differs on %q", in)
			}
			checkAll(t, &m.Header)
		}
	})
}

// longName reports whether a line of in has its first colon at or beyond
// offset n.
func longName(in []byte, n int) bool {
	for _, l := range bytes.Split(in, []byte("\n")) {
		if i := bytes.IndexByte(l, ':'); i >= n || i < 0 && len(l) >= n {
			return true
		}
	}
	return false
}

func TestHeaderSmallAPIs(t *testing.T) {
	h, _, err := parseHeaderBytes([]byte("A: one\r\nB: two\r\n  folded\r\n\r\n"))
	require.NoError(t, err)
	assert.Equal(t, []byte("one"), h.ValueBytes("a"))
	assert.Equal(t, []byte("two  folded"), h.ValueBytes("B"))
	assert.Nil(t, h.ValueBytes("C"))
	h.Add("C", "three")
	assert.Equal(t, []byte("three"), h.ValueBytes("c"))

	h, _, err = parseHeaderBytes([]byte(" lead\r\nA: 1\r\nbad line\r\n"))
	require.NoError(t, err)
	require.Len(t, h.Defects(), 2)
	assert.Equal(t, "line 1: continuation line before the first field; kept as a nameless field", h.Defects()[0].String())
	assert.Equal(t, "", h.Field(0).Name)
	assert.Equal(t, "", h.Get(""))

	// ReadWithLimits on a bufio.Reader reads from it directly.
	br := bufio.NewReader(strings.NewReader("A: 1\r\n\r\nbody"))
	m, err := ReadWithLimits(br, Limits{})
	require.NoError(t, err)
	assert.Same(t, br, m.Body)
	_, err = ReadWithLimits(bufio.NewReader(strings.NewReader("A: 1\r\nB: 2\r\n\r\n")), Limits{MaxFields: 1})
	require.ErrorIs(t, err, ErrTooManyFields)
	assert.Contains(t, err.Error(), "header line 2")

	// Writing fields read with bare LF line ends through a Writer makes
	// them CRLF. A bare CR is not a line end to the reader ("1still A" is
	// A's value), so it is dropped rather than made a line break, which
	// would end the header at "still A" (see TestWriterBareCRNoNewField).
	h, _, err = parseHeaderBytes([]byte("A: 1\rstill A\nB: 2\n\tfolded\r more\n\n"))
	require.NoError(t, err)
	var out bytes.Buffer
	w, err := NewWriter(&out, h, nil)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	assert.Equal(t, "A: 1still A\r\nB: 2\r\n\tfolded\r\n more\r\n\r\n", out.String())
}

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

func TestReadNoProgress(t *testing.T) {
	_, err := Read(emptyReader{})
	require.ErrorIs(t, err, io.ErrNoProgress)
	var out bytes.Buffer
	w, err := NewWriter(&out, nil, nil)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	assert.Equal(t, "\r\n", out.String())
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("write failed") }

func TestWriterPropagatesErrors(t *testing.T) {
	var h Header
	h.Add("A", "1")
	w, err := NewWriter(failWriter{}, &h, nil)
	require.NoError(t, err) // buffered
	_, err = w.Write(bytes.Repeat([]byte("x\n"), 10000))
	require.Error(t, err)
	require.Error(t, w.Close())
	_, err = h.WriteTo(failWriter{})
	require.Error(t, err)
}

func TestAllUnfolds(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // name, value pairs
	}{
		{"CRLF", "A: 1\r\n 2\r\nB:\t3 \r\n\r\n", []string{"A", "1 2", "B", "3"}},
		{"LF", "A: 1\n 2\n\t3\nB: 4\n\n", []string{"A", "1 2\t3", "B", "4"}},
		{"mixed line ends", "A: 1\r\n 2\n 3\r\nB: 4\n\r\n", []string{"A", "1 2 3", "B", "4"}},
		{"bare CR in a value", "A: 1\r2\r\n 3\r\nB: 4\r\n\r\n", []string{"A", "12 3", "B", "4"}},
		{"bare CR in a later field", "A: 1\r\n 2\r\nB: x\ry\r\n\r\n", []string{"A", "1 2", "B", "xy"}},
		{"nameless field first", " x\r\nA: 1\r\n\r\n", []string{"", "", "A", "1"}},
		{"empty value", "A:\r\nB: \r\n \r\n\r\n", []string{"A", "", "B", ""}},
		{"obsolete space before colon", "A : 1\r\n\r\n", []string{"A", "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []func() (*Header, error){
				func() (*Header, error) {
					return ReadHeader(bufio.NewReader(strings.NewReader(tt.in)), Limits{})
				},
				func() (*Header, error) {
					// A tiny buffer makes the line-by-line reader do the work.
					return ReadHeader(bufio.NewReaderSize(strings.NewReader(tt.in), 16), Limits{})
				},
				func() (*Header, error) {
					m, err := Read(strings.NewReader(tt.in))
					if err != nil {
						return nil, err
					}
					return &m.Header, nil
				},
			} {
				h, err := r()
				require.NoError(t, err)
				var got []string
				for name, value := range h.All() {
					got = append(got, name, value)
				}
				assert.Equal(t, tt.want, got)
				checkAll(t, h)
				c := h.Clone()
				got = got[:0]
				for name, value := range c.All() {
					got = append(got, name, value)
				}
				assert.Equal(t, tt.want, got)
			}
		})
	}
}

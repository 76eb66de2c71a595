package message

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cutReaders returns the ways the cut tests read data: with the whole
// header in a large buffer (parsed where it lies), and a byte at a time
// through a small buffer (read line by line).
func cutReaders(data string, size int) map[string]*bufio.Reader {
	return map[string]*bufio.Reader{
		"buffered": bufio.NewReaderSize(strings.NewReader(data), 1<<16),
		"trickled": bufio.NewReaderSize(iotest.OneByteReader(strings.NewReader(data)), size),
	}
}

func names(h *Header) []string {
	var n []string
	for i := range h.Len() {
		n = append(n, h.Name(i))
	}
	return n
}

func TestReadHeaderWithinLimits(t *testing.T) {
	long := strings.Repeat("x", 300)
	tests := []struct {
		name    string
		header  string
		lim     Limits
		bufSize int // of the trickled reader; 0 means 64
		err     error
		line    int
		kept    []string
		lines   int // line feeds in the header, blank line included
	}{
		{
			name:   "fields",
			header: "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n",
			lim:    Limits{MaxFields: 2},
			err:    ErrTooManyFields, line: 3,
			kept:  []string{"A", "B"},
			lines: 5,
		},
		{
			name:   "bytes",
			header: "A: 1\r\nB: 2\r\nC: 333333333\r\nD: 4\r\n\r\n",
			lim:    Limits{MaxHeaderBytes: 20},
			err:    ErrHeaderTooLarge, line: 3,
			kept:  []string{"A", "B"},
			lines: 5,
		},
		{
			name:   "line length",
			header: "A: 1\r\nB: " + long[:50] + "\r\nC: 3\r\n\r\n",
			lim:    Limits{MaxLineLength: 40},
			err:    ErrLineTooLong, line: 2,
			kept:  []string{"A"},
			lines: 4,
		},
		{
			name:    "line longer than the buffer",
			header:  "A: 1\r\nB: " + long + "\r\nC: 3\r\n\r\n",
			lim:     Limits{MaxLineLength: 100},
			bufSize: 16,
			err:     ErrLineTooLong, line: 2,
			kept:  []string{"A"},
			lines: 4,
		},
		{
			name:   "long continuation",
			header: "A: 1\r\nB: 2\r\n " + long[:60] + "\r\n more\r\nC: 3\r\n\r\n",
			lim:    Limits{MaxLineLength: 40},
			err:    ErrLineTooLong, line: 3,
			kept:  []string{"A"}, // B is dropped whole, folded lines and all
			lines: 6,
		},
		{
			name:   "continuation over the byte limit",
			header: "A: 1\r\nB: 2\r\n 3\r\n 4\r\n\r\n",
			lim:    Limits{MaxHeaderBytes: 16},
			err:    ErrHeaderTooLarge, line: 4,
			kept:  []string{"A"},
			lines: 5,
		},
		{
			name:   "first line",
			header: "Subject: " + long + "\nA: 1\n\n",
			lim:    Limits{MaxLineLength: 100},
			err:    ErrLineTooLong, line: 1,
			kept:  nil,
			lines: 3,
		},
	}
	for _, tt := range tests {
		size := tt.bufSize
		if size == 0 {
			size = 64
		}
		data := tt.header + "body\r\n"
		for how, br := range cutReaders(data, size) {
			t.Run(tt.name+"/"+how, func(t *testing.T) {
				// ReadHeader fails on this header, at this line.
				_, werr := ReadHeader(bufio.NewReaderSize(strings.NewReader(data), size), tt.lim)
				var we *HeaderError
				require.ErrorAs(t, werr, &we)

				h, cut, err := ReadHeaderWithin(br, tt.lim)
				require.NoError(t, err)
				require.NotNil(t, cut)
				assert.ErrorIs(t, cut.Err, tt.err)
				assert.Equal(t, tt.line, cut.Err.Line)
				assert.Equal(t, *we, *cut.Err, "the error ReadHeader gives")
				assert.Equal(t, tt.kept, names(h))
				assert.Empty(t, h.Defects())
				var kept int
				for i := range h.Len() {
					kept += len(h.Field(i).Raw)
				}
				blank := len("\r\n")
				if strings.HasSuffix(tt.header, "\n\n") {
					blank = 1
				}
				assert.Equal(t, int64(len(tt.header)-kept-blank), cut.Skipped)
				assert.Equal(t, tt.lines, cut.Lines)
				rest, err := io.ReadAll(br)
				require.NoError(t, err)
				assert.Equal(t, "body\r\n", string(rest), "br is left at the body")
			})
		}
	}
}

func TestReadHeaderWithinFits(t *testing.T) {
	for _, data := range []string{
		"A: 1\r\nB: 2\r\n\r\nbody",
		"A: 1\nB:\n 2\n\nbody",
		" lead\r\nA: 1\r\nno field\r\nbody",
		"A: 1\r\n\rbody",
		"A: 1\r\nB: 2",
		"",
		"\r\nbody",
	} {
		for how, br := range cutReaders(data, 16) {
			want, err := ReadHeader(bufio.NewReaderSize(strings.NewReader(data), 16), Limits{})
			require.NoError(t, err)
			h, cut, err := ReadHeaderWithin(br, Limits{})
			require.NoError(t, err, how)
			assert.Nil(t, cut, how)
			assert.Equal(t, want.buf, h.buf, "%s %q", how, data)
			assert.Equal(t, want.f, h.f, "%s %q", how, data)
			assert.Equal(t, want.Defects(), h.Defects(), "%s %q", how, data)
			assert.Equal(t, want.sep, h.sep, "%s %q", how, data)
		}
	}
}

func TestReadHeaderWithinDefects(t *testing.T) {
	// The line that ends a cut header is recorded with its line number in
	// the whole header, not in the fields kept.
	data := "A: 1\r\nB: 2\r\nC: 3\r\nno field here\r\nbody"
	for how, br := range cutReaders(data, 32) {
		h, cut, err := ReadHeaderWithin(br, Limits{MaxFields: 1})
		require.NoError(t, err)
		require.NotNil(t, cut, how)
		assert.Equal(t, []string{"A"}, names(h))
		assert.Equal(t, []Defect{{4, "line is not a header field; header ended, rest read as body"}}, h.Defects(), how)
		assert.Equal(t, 3, cut.Lines, how)
		rest, _ := io.ReadAll(br)
		assert.Equal(t, "no field here\r\nbody", string(rest), how)
	}

	// A continuation line that starts the header is a field of its own:
	// cut, it takes its defect with it.
	data = " " + strings.Repeat("y", 100) + "\r\nA: 1\r\n\r\nbody"
	for how, br := range cutReaders(data, 32) {
		h, cut, err := ReadHeaderWithin(br, Limits{MaxLineLength: 50})
		require.NoError(t, err)
		require.NotNil(t, cut, how)
		assert.Equal(t, 0, h.Len(), how)
		assert.Empty(t, h.Defects(), how)
		rest, _ := io.ReadAll(br)
		assert.Equal(t, "body", string(rest), how)
	}

	// The end of the input ends a cut header.
	data = "A: 1\r\nB: 2\r\nC: 3"
	for how, br := range cutReaders(data, 32) {
		h, cut, err := ReadHeaderWithin(br, Limits{MaxFields: 1})
		require.NoError(t, err)
		require.NotNil(t, cut, how)
		assert.Equal(t, []string{"A"}, names(h))
		assert.Equal(t, int64(len("B: 2\r\nC: 3")), cut.Skipped, how)
		assert.Equal(t, 2, cut.Lines, how)
	}
}

func TestReadHeaderWithinReadError(t *testing.T) {
	boom := errors.New("boom")
	// The error comes in the part of the header being skipped.
	src := io.MultiReader(strings.NewReader("A: 1\r\nB: 2\r\nC: 3\r\n"), iotest.ErrReader(boom))
	h, cut, err := ReadHeaderWithin(bufio.NewReaderSize(src, 16), Limits{MaxFields: 1})
	assert.Nil(t, h)
	assert.Nil(t, cut)
	var he *HeaderError
	require.ErrorAs(t, err, &he)
	assert.ErrorIs(t, err, boom)
}

// hugeHeader generates, without holding it, a header of about size bytes
// after first: lines of many fields (one), or a single line folded nowhere
// (!many); then a blank line and a body.
type hugeHeader struct {
	first []byte
	size  int64
	many  bool
	n     int64 // bytes of the middle produced
	tail  []byte
}

func (g *hugeHeader) Read(p []byte) (int, error) {
	if len(g.first) > 0 {
		n := copy(p, g.first)
		g.first = g.first[n:]
		return n, nil
	}
	if g.n < g.size {
		k := int(min(int64(len(p)), g.size-g.n))
		for i := range k {
			c := byte('a' + (g.n+int64(i))%26)
			if g.many {
				switch (g.n + int64(i)) % 64 {
				case 1:
					c = ':'
				case 62:
					c = '\r'
				case 63:
					c = '\n'
				}
			}
			p[i] = c
		}
		g.n += int64(k)
		return k, nil
	}
	if len(g.tail) == 0 {
		return 0, io.EOF
	}
	n := copy(p, g.tail)
	g.tail = g.tail[n:]
	return n, nil
}

func TestReadHeaderWithinMemory(t *testing.T) {
	size := int64(64 << 20)
	if testing.Short() {
		size = 8 << 20
	}
	for _, many := range []bool{true, false} {
		name := "one line"
		if many {
			name = "many fields"
		}
		t.Run(name, func(t *testing.T) {
			first := []byte("X-First: 1\r\n")
			if !many {
				first = append(first, "X-Long: "...)
			}
			tail := []byte("\r\nbody") // the blank line, after lines that end
			if !many {
				tail = []byte("\r\n\r\nbody")
			}
			g := &hugeHeader{first: first, size: size, many: many, tail: tail}
			br := bufio.NewReader(g)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			h, cut, err := ReadHeaderWithin(br, Limits{})
			runtime.ReadMemStats(&after)
			require.NoError(t, err)
			require.NotNil(t, cut)
			assert.Equal(t, "1", h.Get("X-First"))
			assert.Greater(t, cut.Skipped, size-int64(DefaultMaxHeaderBytes))
			// The limits allow 256 KiB of header: what was allocated
			// is of that order, not of the header's size.
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d bytes allocated reading a %d-byte header", alloc, size)
			assert.Less(t, alloc, uint64(8<<20))
			rest, err := io.ReadAll(br)
			require.NoError(t, err)
			assert.Equal(t, "body", string(rest))
		})
	}
}

// FuzzReadHeaderWithin checks ReadHeaderWithin against ReadHeader on the same
// input and buffer: the same header when it is within the limits; when it
// is not, the same error in the cut, fields that are the first of the
// header read without limits, br at the same body, and counts that add up.
func FuzzReadHeaderWithin(f *testing.F) {
	f.Add([]byte("A: 1\r\nB: 2\r\n\r\nbody"), 3, 100, 50, false)
	f.Add([]byte("A: 1\r\nB: 2\r\nC: 3\r\n\r\nbody"), 2, 100, 50, true)
	f.Add([]byte("A: 1\r\n b\r\n c\r\nB: 2\r\n\r\nbody"), 5, 20, 50, false)
	f.Add([]byte("A: 1\r\nB: 222222222222222\r\n\r\nbody"), 5, 100, 10, true)
	f.Add([]byte(" lead\r\nA: 1\r\nno field\r\nbody"), 5, 100, 50, false)
	f.Add([]byte(" leading line too long\r\nA: 1\r\n\r\nbody"), 5, 100, 5, true)
	f.Add([]byte("A: 1\r\n\rB: 2\r\n\r\nbody"), 5, 100, 50, false)
	f.Add([]byte("A: 1\nB : 2\nC\x00: 3\n\nbody"), 1, 100, 50, true)
	f.Add([]byte("A: 1\r\nB: 2"), 1, 100, 50, false)
	f.Add([]byte("Content-Type: a/b;\r\nboundary=x\r\n y\r\nB: 2\r\n\r\nbody"), 5, 200, 50, true)
	f.Add([]byte("\xEF\xBB\xBFFrom a@b Mon Jan  1 00:00:00 2024\nA: 1\nno: field: x\nBad Name: 2\nC: 3\n\nbody"), 5, 200, 50, false)
	f.Fuzz(func(t *testing.T, data []byte, maxFields, maxBytes, maxLine int, trickle bool) {
		lim := Limits{MaxFields: maxFields%64 + 1, MaxHeaderBytes: maxBytes%4096 + 1, MaxLineLength: maxLine%1024 + 1}
		unlimited := Limits{MaxFields: 1 << 20, MaxHeaderBytes: 1 << 30, MaxLineLength: 1 << 30}
		reader := func() *bufio.Reader {
			if trickle {
				return bufio.NewReaderSize(iotest.OneByteReader(bytes.NewReader(data)), 16)
			}
			return bufio.NewReaderSize(bytes.NewReader(data), 1<<16)
		}
		br := reader()
		want, werr := ReadHeader(br, lim)
		rest, _ := io.ReadAll(br)
		br = reader()
		all, aerr := ReadHeader(br, unlimited)
		require.NoError(t, aerr)
		allRest, _ := io.ReadAll(br)

		br = reader()
		h, cut, err := ReadHeaderWithin(br, lim)
		require.NoError(t, err)
		body, _ := io.ReadAll(br)

		// The lenient read keeps every field this one keeps: the same
		// name, a Raw that starts with the same bytes. Only a
		// byte-order mark it skips is missing when written back.
		lbr := reader()
		lh, lcut, err := ReadHeaderLenient(lbr, lim)
		require.NoError(t, err)
		require.GreaterOrEqual(t, lh.Len(), h.Len())
		for i := range h.Len() {
			sf, lf := h.Field(i), lh.Field(i)
			require.Equal(t, sf.Name, lf.Name, "field %d", i)
			require.True(t, bytes.HasPrefix(lf.Raw, sf.Raw), "field %d: %q, strict %q", i, lf.Raw, sf.Raw)
		}
		if lcut == nil {
			lrest, _ := io.ReadAll(lbr)
			var out bytes.Buffer
			lh.WriteTo(&out)
			out.Write(lrest)
			in := bytes.TrimPrefix(data, bom)
			if got := out.String(); got != string(in) && got != string(in)+"\r\n" {
				t.Fatalf("lenient round trip:\n in %q\nout %q", in, got)
			}
		}

		if werr == nil {
			require.Nil(t, cut)
			assert.Equal(t, want.buf, h.buf)
			assert.Equal(t, want.f, h.f)
			assert.Equal(t, want.defects, h.defects)
			assert.Equal(t, want.sep, h.sep)
			assert.Equal(t, want.crlfs, h.crlfs)
			assert.Equal(t, string(rest), string(body))
			return
		}
		require.NotNil(t, cut, werr)
		var he *HeaderError
		require.ErrorAs(t, werr, &he)
		assert.Equal(t, *he, *cut.Err)
		assert.Equal(t, string(allRest), string(body))
		require.LessOrEqual(t, h.Len(), all.Len())
		var kept int64
		crlfs := 0
		for i := range h.Len() {
			raw := h.Field(i).Raw
			assert.Equal(t, all.Field(i).Raw, raw)
			kept += int64(len(raw))
			crlfs += bytes.Count(raw, crlf)
		}
		assert.Equal(t, int32(crlfs), h.crlfs)
		assert.Equal(t, all.sep, h.sep)
		consumed := data[:len(data)-len(body)]
		assert.Equal(t, bytes.Count(consumed, lf), cut.Lines)
		assert.Equal(t, int64(len(consumed))-kept-int64(len(h.sep)), cut.Skipped)
		// Of the defects ReadHeader records without limits, those of the
		// fields kept and that of the line that ended the header remain.
		var defects []Defect
		for _, d := range all.Defects() {
			if d.Line > cut.Err.Line || h.Len() > 0 {
				defects = append(defects, d)
			}
		}
		if len(defects) == 0 {
			assert.Empty(t, h.Defects())
		} else {
			assert.Equal(t, defects, h.Defects())
		}
	})
}

package message

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// referenceUnfold is RFC 5322 §2.2.3 unfolding done the slow way, as the
// package documents it: white space and line ends trimmed at both ends, every
// CR and LF removed.
func referenceUnfold(v string) string {
	v = strings.Trim(v, " \t\r\n")
	return strings.NewReplacer("\r", "", "\n", "").Replace(v)
}

// referenceFields splits a header into names and unfolded values, for inputs
// that are well formed (every line a field or a continuation line).
func referenceFields(t *testing.T, hdr string) [][2]string {
	t.Helper()
	var out [][2]string
	for len(hdr) > 0 {
		// A field runs up to an LF that is followed by neither a space
		// nor a tab.
		end := 0
		for {
			k := strings.IndexByte(hdr[end:], '\n')
			if k < 0 {
				end = len(hdr)
				break
			}
			end += k + 1
			if end == len(hdr) || (hdr[end] != ' ' && hdr[end] != '\t') {
				break
			}
		}
		f := hdr[:end]
		hdr = hdr[end:]
		colon := strings.IndexByte(f, ':')
		require.Positive(t, colon, "bad test input %q", f)
		out = append(out, [2]string{strings.TrimRight(f[:colon], " \t"), referenceUnfold(f[colon+1:])})
	}
	return out
}

var viewHeaders = []struct {
	name string
	hdr  string
}{
	{"crlf", "Received: from a.example\r\n\tby b.example; Tue, 1 Jul 2025 10:00:37 +0200\r\n" +
		"Subject: one line\r\nTo: a@example.com,\r\n b@example.com,\r\n  c@example.com\r\n" +
		"X-Empty:\r\nX-Blank-Fold: x\r\n \r\nFrom : Mary <mary@example.net>\r\n"},
	{"lf", "Received: from a.example\n\tby b.example\nSubject: one line\nTo: a@example.com,\n b@example.com\n"},
	{"mixed line ends", "A: 1\r\n 2\n 3\r\nB: x\nC: y\r\n\tz\n"},
	{"bare CR inside a line", "A: x\ry\r\n z\r\nB: p\rq\r\n"},
	{"bare CR only in another field", "A: x\r\n y\r\nB: p\rq\r\nC: r\r\n s\r\n"},
	{"trailing white space", "A: x \t\r\nB:\t y \r\n  z \r\n"},
}

// readers returns the header read by each path: Read straight from the
// input, Read through a bufio.Reader, and ReadHeader with a buffer too small
// for the header.
func readHeaders(t *testing.T, msg string) map[string]*Header {
	t.Helper()
	out := map[string]*Header{}
	m, err := Read(strings.NewReader(msg))
	require.NoError(t, err)
	out["Read"] = &m.Header
	m, err = Read(bufio.NewReader(strings.NewReader(msg)))
	require.NoError(t, err)
	out["Read bufio"] = &m.Header
	h, err := ReadHeader(bufio.NewReaderSize(strings.NewReader(msg), 16), Limits{})
	require.NoError(t, err)
	out["ReadHeader line by line"] = h
	return out
}

func TestHeaderValuesMatchReference(t *testing.T) {
	for _, tt := range viewHeaders {
		want := referenceFields(t, tt.hdr)
		for path, h := range readHeaders(t, tt.hdr+"\r\nbody") {
			t.Run(tt.name+"/"+path, func(t *testing.T) {
				var got [][2]string
				for name, value := range h.All() {
					got = append(got, [2]string{name, value})
				}
				assert.Equal(t, want, got, "All")
				require.Equal(t, len(want), h.Len())
				for i, w := range want {
					f := h.Field(i)
					assert.Equal(t, w[0], f.Name, "Field(%d).Name", i)
					assert.Equal(t, w[1], f.Value, "Field(%d).Value", i)
					assert.Equal(t, w[0], h.Name(i), "Name(%d)", i)
					assert.Equal(t, "prefix"+w[1], string(h.AppendValue([]byte("prefix"), i)), "AppendValue(%d)", i)
					assert.Equal(t, want[firstNamed(want, w[0])][1], h.Get(w[0]), "Get(%q)", w[0])
					assert.Equal(t, want[firstNamed(want, w[0])][1], string(h.ValueBytes(strings.ToUpper(w[0]))), "ValueBytes(%q)", w[0])
				}
			})
		}
	}
}

func firstNamed(fs [][2]string, name string) int {
	for i, f := range fs {
		if strings.EqualFold(f[0], name) {
			return i
		}
	}
	return -1
}

// Names and values share the header's memory; they must stay as they were
// whatever happens to the header, its body and its input afterwards.
func TestHeaderValuesOutliveEdits(t *testing.T) {
	for _, tt := range viewHeaders {
		want := referenceFields(t, tt.hdr)
		in := []byte(tt.hdr + "\r\n" + strings.Repeat("body line\r\n", 2000))
		m, err := Read(bytes.NewReader(in))
		require.NoError(t, err)
		h := &m.Header
		var all, fields, gets []string
		for name, value := range h.All() {
			all = append(all, name, value)
		}
		for i := range h.Len() {
			f := h.Field(i)
			fields = append(fields, f.Name, f.Value)
			gets = append(gets, h.Get(f.Name))
		}
		c := h.Clone()
		for _, w := range want {
			h.Set(w[0], "changed")
			c.Del(w[0])
		}
		h.Prepend("X-New", "new")
		h.Add("X-New", "new")
		for i := range in {
			in[i] = 'X'
		}
		_, err = io.Copy(io.Discard, m.Body)
		require.NoError(t, err)
		m2, err := Read(strings.NewReader(strings.Repeat("Q", len(tt.hdr)) + ": q\r\n\r\n"))
		require.NoError(t, err)
		_ = m2.Header.Get("Q")

		var wantAll []string
		for _, w := range want {
			wantAll = append(wantAll, w[0], w[1])
		}
		assert.Equal(t, wantAll, all, tt.name)
		assert.Equal(t, wantAll, fields, tt.name)
		for i, g := range gets {
			assert.Equal(t, want[firstNamed(want, want[i][0])][1], g, tt.name)
		}
	}
}

// Reading methods may run at once from several goroutines (run with -race).
func TestHeaderConcurrentReads(t *testing.T) {
	msg := viewHeaders[0].hdr + "\r\n"
	m, err := Read(strings.NewReader(msg))
	require.NoError(t, err)
	want := referenceFields(t, viewHeaders[0].hdr)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				k := 0
				for name, value := range m.Header.All() {
					assert.Equal(t, want[k], [2]string{name, value})
					k++
				}
				assert.Equal(t, want[1][1], m.Header.Get("subject"))
				assert.Equal(t, want[0][1], m.Header.Field(0).Value)
			}
		})
	}
	wg.Wait()
}

// A one-line value is handed out without a copy; a folded one costs one
// allocation, and All costs one for all the folded values together.
func TestHeaderValueAllocations(t *testing.T) {
	m, err := Read(strings.NewReader(viewHeaders[0].hdr + "\r\n"))
	require.NoError(t, err)
	h := &m.Header
	assert.Zero(t, testing.AllocsPerRun(20, func() { _ = h.Get("Subject") }))
	assert.Zero(t, testing.AllocsPerRun(20, func() { _ = h.Field(1) }))
	assert.Equal(t, 1.0, testing.AllocsPerRun(20, func() { _ = h.Get("To") }))
	assert.Equal(t, 1.0, testing.AllocsPerRun(20, func() {
		for range h.All() {
		}
	}))
}

func TestHeaderNameAppendValueAdded(t *testing.T) {
	m, err := Read(strings.NewReader("A: 1\r\n 2\r\nB: 3\r\n\r\n"))
	require.NoError(t, err)
	h := &m.Header
	h.Set("B", "three")
	h.Add("C", "four")
	h.Prepend("Z", "zero")
	want := [][2]string{{"Z", "zero"}, {"A", "1 2"}, {"B", "three"}, {"C", "four"}}
	require.Equal(t, len(want), h.Len())
	var buf []byte
	for i, w := range want {
		assert.Equal(t, w[0], h.Name(i))
		buf = h.AppendValue(buf[:0], i)
		assert.Equal(t, w[1], string(buf))
	}
	// A nameless field (a continuation line before any field) has an empty
	// name and value, as Field reports it.
	h2, _, err := parseHeaderBytes([]byte(" x\r\nA: 1\r\n\r\n"))
	require.NoError(t, err)
	require.Equal(t, 2, h2.Len())
	assert.Equal(t, h2.Field(0).Name, h2.Name(0))
	assert.Equal(t, h2.Field(0).Value, string(h2.AppendValue(nil, 0)))
}

// Name and AppendValue into a buffer with room allocate nothing.
func TestHeaderAppendValueAllocations(t *testing.T) {
	m, err := Read(strings.NewReader(viewHeaders[0].hdr + "\r\n"))
	require.NoError(t, err)
	h := &m.Header
	buf := make([]byte, 0, 1024)
	assert.Zero(t, testing.AllocsPerRun(20, func() {
		for i := range h.Len() {
			_ = h.Name(i)
			buf = h.AppendValue(buf[:0], i)
		}
	}))
}

// lenReader reports a length that has nothing to do with what it holds.
type lenReader struct {
	io.Reader
	n int
}

func (l lenReader) Len() int { return l.n }

// Read sizes its buffer from a reader's Len when it has one; any length, true
// or not, reads the same message.
func TestReadSizedFromLen(t *testing.T) {
	long := "X-Long: " + strings.Repeat("x", 9000) + "\r\n"
	for _, msg := range []string{
		"A: 1\r\n\r\nbody",
		"A: 1\r\n 2\r\n",          // no blank line: the input ends the header
		long + "B: 2\r\n\r\nbody", // longer than the first buffer
		"\r\nbody",
		"",
	} {
		want, wantRest, err := parseHeaderBytes([]byte(msg))
		require.NoError(t, err)
		readers := []io.Reader{
			strings.NewReader(msg),
			bytes.NewReader([]byte(msg)),
			bytes.NewBufferString(msg),
			lenReader{strings.NewReader(msg), 0},
			lenReader{strings.NewReader(msg), -5},
			lenReader{strings.NewReader(msg), 1 << 40},
		}
		for i, r := range readers {
			m, err := Read(r)
			require.NoError(t, err, "reader %d", i)
			rest, err := io.ReadAll(m.Body)
			require.NoError(t, err)
			assert.Equal(t, string(wantRest), string(rest), "reader %d body", i)
			require.Equal(t, want.Len(), m.Header.Len(), "reader %d", i)
			for k := range want.Len() {
				assert.Equal(t, want.Field(k), m.Header.Field(k), "reader %d field %d", i, k)
			}
		}
	}
}

package message

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeOne writes a header holding one added field and returns the bytes.
func writeOne(t *testing.T, name, value string, utf8 bool) (string, error) {
	t.Helper()
	var h Header
	h.Add(name, value)
	var b bytes.Buffer
	w, err := NewWriter(&b, &h, &WriteOptions{UTF8: utf8})
	if err != nil {
		return "", err
	}
	require.NoError(t, w.Close())
	return b.String(), nil
}

func TestWriteNonASCIIAddress(t *testing.T) {
	// RFC 2047 §5: no encoded word in an addr-spec, so a non-ASCII local
	// part has no ASCII form.
	for _, v := range []string{
		"jörg@example.org",
		"Jörg <jörg@example.org>",
		"a@example.org, \"J\" <jörg@example.org>",
		"team: jörg@example.org;",
		"x@[ö]",
	} {
		_, err := writeOne(t, "To", v, false)
		assert.ErrorIs(t, err, ErrNonASCII, v)
		out, err := writeOne(t, "To", v, true)
		require.NoError(t, err, v)
		assert.Contains(t, out, "ö", v)
	}
	// A non-ASCII domain becomes A-labels (RFC 5890).
	out, err := writeOne(t, "From", "Jörg <joerg@bücher.example>", false)
	require.NoError(t, err)
	assert.Equal(t, "From: =?UTF-8?Q?J=C3=B6rg?= <joerg@xn--bcher-kva.example>\r\n\r\n", out)
	_, err = writeOne(t, "Cc", "a@b\u00ad\u200d\u0301.example", false)
	assert.ErrorIs(t, err, ErrNonASCII)
}

func TestWriteFields(t *testing.T) {
	var h Header
	h.Add("Return-Path", "<a@example.org>")
	h.Add("Received", "from x by y; Tue, 1 Jul 2003 10:52:37 +0200")
	var b bytes.Buffer
	n, err := h.WriteFields(&b)
	require.NoError(t, err)
	want := "Return-Path: <a@example.org>\r\nReceived: from x by y; Tue, 1 Jul 2003 10:52:37 +0200\r\n"
	assert.Equal(t, want, b.String())
	assert.Equal(t, int64(len(want)), n)

	// WriteTo is unchanged: fields and the blank line.
	b.Reset()
	_, err = h.WriteTo(&b)
	require.NoError(t, err)
	assert.Equal(t, want+"\r\n", b.String())

	// A header that was read: fields as read, without the blank line; a
	// last field read without a line end gets one.
	for in, out := range map[string]string{
		"A: 1\nB : 2\n\tx\n\nbody": "A: 1\nB : 2\n\tx\n",
		"A: 1\r\n\r\n":             "A: 1\r\n",
		"A: 1":                     "A: 1\r\n",
		"A: 1\r":                   "A: 1\r\n",
		"\r\nbody":                 "",
	} {
		m, err := Read(strings.NewReader(in))
		require.NoError(t, err)
		b.Reset()
		_, err = m.Header.WriteFields(&b)
		require.NoError(t, err)
		assert.Equal(t, out, b.String(), "%q", in)
	}

	h.Add("Bad", "a\r\nInjected: yes")
	_, err = h.WriteFields(&b)
	assert.True(t, errors.Is(err, ErrNewline))
}

// isEncodedWordLine reports whether a header line holds an encoded word.
func isEncodedWordLine(l string) bool {
	for _, w := range strings.Fields(l) {
		if strings.HasPrefix(w, "=?") && strings.HasSuffix(w, "?=") {
			return true
		}
	}
	return false
}

func TestEncodedWordLines76(t *testing.T) {
	// RFC 2047 §2: a line holding an encoded word is at most 76
	// characters; other lines fold at 78 (RFC 5322 §2.2.3).
	values := []string{
		strings.Repeat("é", 200),
		"Ünïcödé " + strings.Repeat("plain ", 30) + "ünd",
		strings.Repeat("ab ", 20) + "é" + strings.Repeat(" cd", 20),
		strings.Repeat("x", 60) + " é " + strings.Repeat("y", 10),
	}
	for _, name := range []string{"Subject", "X-A", "X-Much-Longer-Field-Name"} {
		for _, v := range values {
			out, err := writeOne(t, name, v, false)
			require.NoError(t, err)
			for _, l := range strings.Split(strings.TrimSuffix(out, "\r\n\r\n"), "\r\n") {
				if isEncodedWordLine(l) {
					assert.LessOrEqual(t, len(l), 76, "%q", l)
				}
				assert.NotEmpty(t, strings.TrimLeft(l, " \t"), "line of only white space")
			}
			m, err := Read(strings.NewReader(out))
			require.NoError(t, err)
			got, err := DecodeWords(m.Header.Get(name))
			require.NoError(t, err)
			assert.Equal(t, strings.Join(strings.Fields(v), " "), strings.Join(strings.Fields(got), " "))
		}
	}
	// The same for display names.
	out, err := writeOne(t, "To", "Jörg "+strings.Repeat("Ääkkönen ", 8)+"<j@example.org>, Ann <ann@example.org>", false)
	require.NoError(t, err)
	for _, l := range strings.Split(out, "\r\n") {
		if isEncodedWordLine(l) {
			assert.LessOrEqual(t, len(l), 76, "%q", l)
		}
	}
}

func TestLimitsCapped(t *testing.T) {
	l := Limits{MaxHeaderBytes: 1 << 40, MaxLineLength: 1 << 40, MaxFields: 1 << 40}.withDefaults()
	assert.Equal(t, 1<<30, l.MaxHeaderBytes)
	assert.Equal(t, 1<<30, l.MaxLineLength)
	m, err := ReadWithLimits(strings.NewReader("A: 1\r\n\r\nbody"), Limits{MaxHeaderBytes: 1 << 40})
	require.NoError(t, err)
	assert.Equal(t, "1", m.Header.Get("a"))
}

func TestSetDoesNotGrow(t *testing.T) {
	var h Header
	h.Add("A", "0")
	for i := 0; i < 100; i++ {
		h.Set("X-Counter", itoa(i))
	}
	assert.Len(t, h.added, 2)
	assert.Equal(t, "99", h.Get("x-counter"))
	c := h.Clone()
	c.Set("X-Counter", "clone")
	assert.Equal(t, "99", h.Get("x-counter"))
	assert.Equal(t, "clone", c.Get("x-counter"))
	assert.Equal(t, 2, h.Len())
}

func TestAllMatchesField(t *testing.T) {
	for _, in := range []string{
		sampleMsg,
		" lead\r\nA : x \r\n\ty\r\nB:\r\nC:  v  \r\n\r\n",
		"A: 1\nB: 2\n folded\n\n",
	} {
		m, err := Read(strings.NewReader(in))
		require.NoError(t, err)
		m.Header.Add("Added", "value")
		i := 0
		for name, value := range m.Header.All() {
			f := m.Header.Field(i)
			assert.Equal(t, f.Name, name)
			assert.Equal(t, f.Value, value)
			i++
		}
		assert.Equal(t, m.Header.Len(), i)
	}
}

func TestDecodeWordsInvalidUTF8(t *testing.T) {
	for in, want := range map[string]string{
		"=?utf-8?q?a=FFb?=":                "a\uFFFDb",
		"=?us-ascii?q?=E9t=E9?=":           "\uFFFDt\uFFFD",
		"=?utf-8?b?w6k=?= =?utf-8?q?=C3?=": "é\uFFFD",
		"=?utf-8?q?=C3?= =?utf-8?q?=A9?=":  "é", // split character joined first
	} {
		got, err := DecodeWords(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
}

func TestHeaderWriteOptions(t *testing.T) {
	var h Header
	h.Add("To", "Jörg <jörg@bücher.example>")
	var b bytes.Buffer
	_, err := h.WriteTo(&b)
	assert.ErrorIs(t, err, ErrNonASCII)
	b.Reset()
	n, err := h.Write(&b, WriteOptions{UTF8: true})
	require.NoError(t, err)
	assert.Equal(t, "To: Jörg <jörg@bücher.example>\r\n\r\n", b.String())
	assert.Equal(t, int64(b.Len()), n)
	b.Reset()
	_, err = h.Write(&b, WriteOptions{UTF8: true, FieldsOnly: true})
	require.NoError(t, err)
	assert.Equal(t, "To: Jörg <jörg@bücher.example>\r\n", b.String())
}

func TestParseReceivedSemicolonInComment(t *testing.T) {
	for _, in := range []string{
		"from a.example by b.example; Tue, 1 Jul 2003 10:52:37 +0200 (CEST; daylight)",
		"from a.example (x; y) by b.example; Tue, 1 Jul 2003 10:52:37 +0200",
		"from a.example by b.example id \"q;r\"; Tue, 1 Jul 2003 10:52:37 +0200",
	} {
		r, err := ParseReceived(in)
		require.NoError(t, err, in)
		assert.Equal(t, "b.example", r.By, in)
		assert.Equal(t, 2003, r.Date.Year(), in)
	}
}

// TestWriterBareCRNoNewField: a bare CR inside a field read is part of its
// value; making line ends CRLF must not turn it into a line break that
// starts a new field (a Bcc the reader never saw) or ends the header.
func TestWriterBareCRNoNewField(t *testing.T) {
	for _, in := range []string{
		"Subject: hi\rBcc: victim@example.org\r\nFrom: a@example.org\r\n\r\nbody",
		"Subject: hi\r\rnot a field\r\nFrom: a@example.org\r\n\r\nbody",
		"Subject: hi\r folded\r\nFrom: a@example.org\r\n\r\nbody",
		"Subject: hi\r\r\nFrom: a@example.org\r\n\r\nbody",
	} {
		m, err := Read(strings.NewReader(in))
		require.NoError(t, err)
		var out bytes.Buffer
		w, err := NewWriter(&out, &m.Header, nil)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		again, err := Read(&out)
		require.NoError(t, err, "%q", in)
		assert.Empty(t, again.Header.Defects(), "%q", in)
		assert.Equal(t, m.Header.Len(), again.Header.Len(), "%q", in)
		assert.False(t, again.Header.Has("Bcc"), "%q", in)
		for i := 0; i < m.Header.Len(); i++ {
			assert.Equal(t, m.Header.Field(i).Value, again.Header.Field(i).Value, "%q", in)
		}
		assert.NotContains(t, strings.ReplaceAll(out.String(), "\r\n", ""), "\r")
	}
}

func TestFoldWhiteSpaceRun(t *testing.T) {
	// The run before a folded word stays on the line it ends, but for
	// the one character that starts the next; the value is unchanged.
	v := strings.Repeat("word ", 10) + "     " + strings.Repeat("é", 20)
	out, err := writeOne(t, "Subject", v, false)
	require.NoError(t, err)
	for _, l := range strings.Split(strings.TrimSuffix(out, "\r\n\r\n"), "\r\n") {
		assert.LessOrEqual(t, len(l), PreferredLineLength, "%q", l)
		if isEncodedWordLine(l) {
			assert.LessOrEqual(t, len(l), 76, "%q", l)
		}
		assert.False(t, strings.HasPrefix(l, "  "), "%q", l)
	}
	m, err := Read(strings.NewReader(out))
	require.NoError(t, err)
	got, err := DecodeWords(m.Header.Get("Subject"))
	require.NoError(t, err)
	assert.Equal(t, v, got)
}

func TestFoldShortFirstTokenOnContinuation(t *testing.T) {
	// A continuation line that starts with a word shorter than the field
	// name still folds before the next word that does not fit.
	v := strings.Repeat("x", 70) + " ab " + strings.Repeat("y", 76)
	b, err := fold(nil, "X-Long-Name", v)
	require.NoError(t, err)
	assert.Equal(t, "X-Long-Name: "+strings.Repeat("x", 70)+"\r\n ab\r\n "+strings.Repeat("y", 76)+"\r\n", string(b))
}

package imapwire

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

	"github.com/mailwire/mailwire/imap"
)

func newDecLimits(s string, lim Limits) *Decoder {
	return NewDecoder(bufio.NewReader(strings.NewReader(s)), lim)
}

func TestDecoderTokens(t *testing.T) {
	tests := []struct {
		in   string
		read func(d *Decoder) (any, bool)
		want any
	}{
		{"abc ", func(d *Decoder) (any, bool) { var s string; ok := d.Atom(&s); return s, ok }, "abc"},
		{`"a\"b\\c" `, func(d *Decoder) (any, bool) { var s string; ok := d.Quoted(&s); return s, ok }, `a"b\c`},
		{`"日本"`, func(d *Decoder) (any, bool) { var s string; ok := d.String(&s); return s, ok }, "日本"},
		{"{5}\r\nab\r\nc", func(d *Decoder) (any, bool) { var s string; ok := d.String(&s); return s, ok }, "ab\r\nc"},
		{"{3+}\r\nabc", func(d *Decoder) (any, bool) { var s string; ok := d.String(&s); return s, ok }, "abc"},
		{"{3-}\r\nabc", func(d *Decoder) (any, bool) { var s string; ok := d.AString(&s); return s, ok }, "abc"},
		{"~{2}\r\n\x00\x01", func(d *Decoder) (any, bool) { var s string; ok := d.String(&s); return s, ok }, "\x00\x01"},
		{"{0}\r\n", func(d *Decoder) (any, bool) { var s string; ok := d.String(&s); return s, ok }, ""},
		{"a]b ", func(d *Decoder) (any, bool) { var s string; ok := d.AString(&s); return s, ok }, "a]b"},
		{"NIL ", func(d *Decoder) (any, bool) { var s = "x"; ok := d.NString(&s); return s, ok }, ""},
		{"nil)", func(d *Decoder) (any, bool) { p := new(string); ok := d.NStringPtr(&p); return p, ok }, (*string)(nil)},
		{"NILS ", func(d *Decoder) (any, bool) { var s string; ok := d.AString(&s); return s, ok }, "NILS"},
		{"4294967295 ", func(d *Decoder) (any, bool) { var n uint32; ok := d.Number(&n); return n, ok }, uint32(4294967295)},
		{"9223372036854775807)", func(d *Decoder) (any, bool) { var n uint64; ok := d.Number64(&n); return n, ok }, uint64(9223372036854775807)},
		{`(\Seen \answered $Junk \*) `, func(d *Decoder) (any, bool) { var f []imap.Flag; ok := d.FlagList(&f); return f, ok },
			[]imap.Flag{imap.FlagSeen, imap.FlagAnswered, "$Junk", imap.FlagWildcard}},
		{"() ", func(d *Decoder) (any, bool) { var f []imap.Flag; ok := d.FlagList(&f); return f, ok }, []imap.Flag{}},
		{"1:3,5:* ", func(d *Decoder) (any, bool) { var s imap.SeqSet; ok := d.SeqSet(&s); return s.String(), ok }, "1:3,5:*"},
		{"(a  b (c))", func(d *Decoder) (any, bool) {
			var got []string
			var elem func() bool
			elem = func() bool {
				if d.PeekIs('(') {
					return d.List(elem)
				}
				var s string
				ok := d.Atom(&s)
				got = append(got, s)
				return ok
			}
			ok := d.List(elem)
			return got, ok
		}, []string{"a", "b", "c"}},
		{"&AOk-\r\n", func(d *Decoder) (any, bool) { var s string; ok := d.Mailbox(&s, false); return s, ok }, "é"},
		{"inbox\r\n", func(d *Decoder) (any, bool) { var s string; ok := d.Mailbox(&s, false); return s, ok }, "INBOX"},
		{"some text [x]\r\n", func(d *Decoder) (any, bool) { var s string; ok := d.Text(&s); return s, ok }, "some text [x]"},
	}
	for _, tt := range tests {
		d := newDec(tt.in)
		got, ok := tt.read(d)
		require.True(t, ok, "%q: %v", tt.in, d.Err())
		assert.Equal(t, tt.want, got, tt.in)
	}
}

func TestDecoderErrors(t *testing.T) {
	tests := []struct {
		in   string
		read func(d *Decoder) bool
	}{
		{`"abc`, func(d *Decoder) bool { var s string; return d.Quoted(&s) }},
		{"\"a\r\nb\"", func(d *Decoder) bool { var s string; return d.Quoted(&s) }},
		{`"a\b"`, func(d *Decoder) bool { var s string; return d.Quoted(&s) }},
		{"{5}\r\nab", func(d *Decoder) bool { var s string; return d.String(&s) }},
		{"{5x}\r\nabcde", func(d *Decoder) bool { var s string; return d.String(&s) }},
		{"{5} abcde", func(d *Decoder) bool { var s string; return d.String(&s) }},
		{"4294967296 ", func(d *Decoder) bool { var n uint32; return d.Number(&n) }},
		{"9223372036854775808 ", func(d *Decoder) bool { var n uint64; return d.Number64(&n) }},
		{"99999999999999999999999 ", func(d *Decoder) bool { var n uint64; return d.Number64(&n) }},
		{"0 ", func(d *Decoder) bool { var n uint32; return d.NZNumber(&n) }},
		{"(a b", func(d *Decoder) bool { return d.List(func() bool { var s string; return d.Atom(&s) }) }},
		{`(a"b")`, func(d *Decoder) bool { return d.List(func() bool { var s string; return d.Atom(&s) }) }},
		{"&Jjo!\r\n", func(d *Decoder) bool { var s string; return d.Mailbox(&s, false) }},
		{"", func(d *Decoder) bool { var s string; return d.Atom(&s) }},
		{"(", func(d *Decoder) bool { var s string; return d.Atom(&s) }},
		{"0:1 ", func(d *Decoder) bool { var s imap.SeqSet; return d.SeqSet(&s) }},
	}
	for _, tt := range tests {
		d := newDec(tt.in)
		assert.False(t, tt.read(d), "%q", tt.in)
		assert.Error(t, d.Err(), "%q", tt.in)
		// Errors are sticky.
		assert.False(t, d.SP())
	}
}

func TestDecoderLimits(t *testing.T) {
	var le *LimitError

	// A line longer than the limit, never terminated.
	d := NewDecoder(bufio.NewReader(io.MultiReader(strings.NewReader("a1 "), repeatReader('x'))), Limits{MaxLine: 1000})
	var s string
	d.Atom(&s)
	d.SP()
	assert.False(t, d.Atom(&s))
	require.ErrorAs(t, d.Err(), &le)
	assert.Equal(t, "MaxLine", le.Limit)
	assert.ErrorIs(t, d.Err(), ErrLimit)

	// An unterminated quoted string that goes on forever.
	d = NewDecoder(bufio.NewReader(io.MultiReader(strings.NewReader(`"`), repeatReader('x'))), Limits{})
	assert.False(t, d.Quoted(&s))
	require.ErrorAs(t, d.Err(), &le)

	// A literal larger than the limit: refused before reading, without
	// calling the hook, and in sync when synchronising.
	called := false
	d = newDecLimits("{2000000}\r\n", Limits{})
	d.OnSyncLiteral = func(int64) error { called = true; return nil }
	assert.False(t, d.String(&s))
	require.ErrorAs(t, d.Err(), &le)
	assert.Equal(t, "MaxStringLiteral", le.Limit)
	assert.True(t, le.InSync)
	assert.False(t, called)

	d = newDecLimits("{100+}\r\n", Limits{MaxLiteral: 99})
	_, ok := d.Literal()
	assert.False(t, ok)
	require.ErrorAs(t, d.Err(), &le)
	assert.Equal(t, "MaxLiteral", le.Limit)
	assert.False(t, le.InSync)

	// A literal size that overflows 63 bits.
	d = newDecLimits("{99999999999999999999}\r\n", Limits{})
	assert.False(t, d.String(&s))
	var pe *ParseError
	assert.ErrorAs(t, d.Err(), &pe)

	// Deep nesting.
	deep := strings.Repeat("(", 100000)
	d = newDecLimits(deep, Limits{})
	assert.False(t, d.SkipValue())
	require.ErrorAs(t, d.Err(), &le)
	assert.Equal(t, "MaxDepth", le.Limit)

	// Many literals on one command add up to the command limit.
	many := strings.Repeat("{10+}\r\n0123456789 ", 200)
	d = newDecLimits(many, Limits{MaxCommand: 1000})
	for d.String(&s) && d.SP() {
	}
	require.ErrorAs(t, d.Err(), &le)
	assert.Equal(t, "MaxCommand", le.Limit)

	// Negative limits disable.
	d = newDecLimits("{5000}\r\n"+strings.Repeat("x", 5000), Limits{MaxStringLiteral: -1})
	assert.True(t, d.String(&s))
}

// repeatReader returns an endless stream of c.
func repeatReader(c byte) io.Reader {
	return readerFunc(func(p []byte) (int, error) {
		for i := range p {
			p[i] = c
		}
		return len(p), nil
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func TestLiteralStreaming(t *testing.T) {
	// The hook runs before the literal's bytes are read: a reader that
	// fails after the header proves the decoder did not read ahead.
	in := "a1 APPEND INBOX {11}\r\n"
	r := io.MultiReader(strings.NewReader(in), readerFunc(func([]byte) (int, error) {
		return 0, errors.New("read past the literal header")
	}))
	d := NewDecoder(bufio.NewReader(r), Limits{})
	var sizes []int64
	d.OnSyncLiteral = func(n int64) error { sizes = append(sizes, n); return errors.New("refused") }
	cmd, err := ReadCommand(d)
	require.NoError(t, err)
	assert.Equal(t, "APPEND", cmd.Name)
	_, l, err := ReadAppendArgs(d, false)
	assert.EqualError(t, err, "refused")
	assert.Nil(t, l)
	assert.Equal(t, []int64{11}, sizes)

	// Accepted: the literal streams, and the unread part is skipped.
	big := strings.Repeat("0123456789", 100000)
	in = "a2 APPEND Drafts (\\Seen) \" 7-Feb-1994 21:52:25 -0800\" {1000000}\r\n" + big + "\r\na3 NOOP\r\n"
	d = NewDecoder(bufio.NewReaderSize(iotest.HalfReader(strings.NewReader(in)), 16), Limits{})
	sizes = nil
	d.OnSyncLiteral = func(n int64) error { sizes = append(sizes, n); return nil }
	_, err = ReadCommand(d)
	require.NoError(t, err)
	args, l, err := ReadAppendArgs(d, false)
	require.NoError(t, err)
	assert.Equal(t, "Drafts", args.Mailbox)
	assert.Equal(t, []imap.Flag{imap.FlagSeen}, args.Flags)
	assert.Equal(t, 1994, args.Date.Year())
	assert.EqualValues(t, 1000000, l.Size)
	head := make([]byte, 10)
	_, err = io.ReadFull(l, head)
	require.NoError(t, err)
	assert.Equal(t, "0123456789", string(head))
	require.NoError(t, ReadNoArgs(d))
	cmd, err = ReadCommand(d)
	require.NoError(t, err)
	assert.Equal(t, Command{Tag: "a3", Name: "NOOP"}, cmd)
	require.NoError(t, ReadNoArgs(d))
	assert.Equal(t, []int64{1000000}, sizes)

	// A non-synchronising literal does not call the hook.
	d = newDec("{3+}\r\nabc")
	d.OnSyncLiteral = func(int64) error { t.Fatal("hook called"); return nil }
	l, ok := d.Literal()
	require.True(t, ok)
	b, err := io.ReadAll(l)
	require.NoError(t, err)
	assert.Equal(t, "abc", string(b))
	assert.True(t, l.NonSync)

	// A literal cut short reports it.
	d = newDec("{10}\r\nabc")
	l, ok = d.Literal()
	require.True(t, ok)
	_, err = io.ReadAll(l)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

func TestDiscardLine(t *testing.T) {
	in := "a1 LOGIN {5+}\r\nab)de {3+}\r\nxyz junk(\r\na2 NOOP\r\n"
	d := newDec(in)
	_, err := ReadCommand(d)
	require.NoError(t, err)
	var s string
	d.SP()
	d.Atom(&s) // fails on the literal: not an atom
	require.Error(t, d.Err())
	require.NoError(t, d.DiscardLine())
	d.Reset()
	cmd, err := ReadCommand(d)
	require.NoError(t, err)
	assert.Equal(t, "a2", cmd.Tag)

	// A synchronising literal ends the discarding: its bytes never come.
	d = newDec("a1 X {5}\r\na2 NOOP\r\n")
	d.Errorf("bad")
	require.NoError(t, d.DiscardLine())
	d.Reset()
	cmd, err = ReadCommand(d)
	require.NoError(t, err)
	assert.Equal(t, "a2", cmd.Tag)
}

func TestEncoder(t *testing.T) {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	e := NewEncoder(w)
	e.AString("INBOX")
	e.SP()
	e.AString("two words")
	e.SP()
	e.AString(`a"b\c`)
	e.SP()
	e.AString("")
	e.SP()
	e.String("line\r\nbreak")
	e.SP()
	e.String("日本")
	e.SP()
	e.NString("")
	e.SP()
	e.Mailbox("Entwürfe")
	e.SP()
	e.FlagList([]imap.Flag{imap.FlagSeen, "$Junk"})
	e.SP()
	e.Number(18446744073709551615)
	e.SP()
	e.SeqSet(imap.SeqSet{{Start: 1, Stop: 3}, {Start: 5, Stop: imap.Star}})
	e.SP()
	e.Literal8(2, strings.NewReader("\x00\x01"))
	e.CRLF()
	require.NoError(t, e.Flush())
	assert.Equal(t, `INBOX "two words" "a\"b\\c" "" {11}`+"\r\nline\r\nbreak {6}\r\n日本 NIL Entw&APw-rfe (\\Seen $Junk) 18446744073709551615 1:3,5:* ~{2}\r\n\x00\x01\r\n", buf.String())

	buf.Reset()
	e = NewEncoder(w)
	e.UTF8 = true
	e.String("日本")
	e.SP()
	e.Mailbox("Entwürfe")
	require.NoError(t, e.Flush())
	assert.Equal(t, `"日本" "Entwürfe"`, buf.String())

	// Injection is refused.
	for _, f := range []func(e *Encoder){
		func(e *Encoder) { e.Atom("a\r\nb") },
		func(e *Encoder) { e.Text("x\ny") },
		func(e *Encoder) { e.Flag("a b") },
		func(e *Encoder) { e.Quoted("a\rb") },
		func(e *Encoder) { e.SeqSet(nil) },
		func(e *Encoder) { e.Literal(10, strings.NewReader("short")) },
	} {
		e := NewEncoder(bufio.NewWriter(io.Discard))
		f(e)
		assert.Error(t, e.Flush())
	}
	e = NewEncoder(bufio.NewWriter(io.Discard))
	e.Atom("a\nb")
	assert.ErrorIs(t, e.Err(), ErrInvalid)
}

func TestEncoderLiteralHandshake(t *testing.T) {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	e := NewEncoder(w)
	var seenAtWait []string
	e.WaitContinuation = func() error {
		seenAtWait = append(seenAtWait, buf.String())
		return nil
	}
	e.Atom("a1 LOGIN")
	e.SP()
	e.AString("user")
	e.SP()
	e.String("pass\x7fword\r\n")
	e.CRLF()
	require.NoError(t, e.Flush())
	// The header was flushed before waiting; the bytes came after.
	assert.Equal(t, []string{"a1 LOGIN user {11}\r\n"}, seenAtWait)
	assert.Equal(t, "a1 LOGIN user {11}\r\npass\x7fword\r\n\r\n", buf.String())

	// LITERAL+: no waiting.
	buf.Reset()
	e.LiteralPlus = true
	seenAtWait = nil
	e.Literal(3, strings.NewReader("abc"))
	require.NoError(t, e.Flush())
	assert.Equal(t, "{3+}\r\nabc", buf.String())
	assert.Nil(t, seenAtWait)

	// LITERAL-: only up to 4096 octets.
	buf.Reset()
	e.LiteralPlus, e.LiteralMinus = false, true
	e.Literal(3, strings.NewReader("abc"))
	e.Literal(5000, strings.NewReader(strings.Repeat("x", 5000)))
	require.NoError(t, e.Flush())
	assert.True(t, strings.HasPrefix(buf.String(), "{3+}\r\nabc{5000}\r\n"))
	assert.Len(t, seenAtWait, 1)

	// A refused continuation stops the command.
	e.WaitContinuation = func() error { return &imap.Error{Type: imap.StatusNO, Text: "too big"} }
	e.Literal(5000, strings.NewReader(strings.Repeat("x", 5000)))
	var ie *imap.Error
	assert.ErrorAs(t, e.Err(), &ie)
}

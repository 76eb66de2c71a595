package message

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewMessageID(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := NewMessageID("example.com")
		require.False(t, seen[id], "duplicate %s", id)
		seen[id] = true
		got, err := ParseMessageID(id)
		require.NoError(t, err)
		assert.Equal(t, id[1:len(id)-1], got)
		assert.True(t, strings.HasSuffix(got, "@example.com"))
	}
	id := NewMessageID("")
	_, err := ParseMessageID(id)
	require.NoError(t, err)
}

func TestParseMessageID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<1234@local.machine.example>", "1234@local.machine.example"},
		{"  <1234@local.machine.example> (comment)", "1234@local.machine.example"},
		{"<testabcd.1234@silly.test>", "testabcd.1234@silly.test"},
		{"<abc@[127.0.0.1]>", "abc@[127.0.0.1]"},
		{"1234@local.machine.example", "1234@local.machine.example"},
		{"<12345>", "12345"},
		{"< 1234 @ example . com >", "1234@example.com"},
		{`<"quoted"@example.com>`, "quoted@example.com"},
		{`<"quo ted"@example.com>`, "quoted@example.com"},
	}
	for _, tc := range tests {
		got, err := ParseMessageID(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
	for _, in := range []string{"", "   ", "<a@b> <c@d>", "<a@b> junk", "(only a comment)"} {
		_, err := ParseMessageID(in)
		require.Error(t, err, in)
		var me *MessageIDError
		assert.True(t, errors.As(err, &me))
	}
}

func TestParseMessageIDList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"<1234@local.machine.example> <3456@example.net>", []string{"1234@local.machine.example", "3456@example.net"}},
		{"<a@x>,<b@y>", []string{"a@x", "b@y"}},
		{"<a@x>\r\n <b@y>\r\n\t<c@z>", []string{"a@x", "b@y", "c@z"}},
		{`Your message of "Fri, 21 Nov 1997" <a@x>`, []string{"a@x"}},
		{"<a@x> (Joe's message)", []string{"a@x"}},
		{"a@x b@y", []string{"a@x", "b@y"}},
		{"", nil},
		{"no ids here", nil},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, ParseMessageIDList(tc.in), tc.in)
	}
	assert.Equal(t, "<a@x> <b@y>", FormatMessageIDList([]string{"a@x", "b@y"}))
}

func FuzzParseMessageID(f *testing.F) {
	for _, s := range []string{"<1234@local.machine.example>", "<a@x> <b@y>", `<"q"@x>`, "<(>", "a@b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if id, err := ParseMessageID(s); err == nil && id != "" && !strings.ContainsAny(id, "<> \t\r\n") {
			again, err := ParseMessageID("<" + id + ">")
			if err != nil || again != id {
				t.Fatalf("%q -> %q -> %q, %v", s, id, again, err)
			}
		}
		ids := ParseMessageIDList(s)
		for _, id := range ids {
			if strings.ContainsAny(id, "<>") && !strings.Contains(s, "<") {
				t.Fatalf("bad id %q", id)
			}
		}
	})
}

func TestParseReceived(t *testing.T) {
	in := "from mail.example.com (mail.example.com [192.0.2.1])\r\n\tby mx.example.net (Postfix) with ESMTPS id 4ABC123\r\n\tfor <bob@example.net>; Tue, 1 Jul 2003 10:52:37 +0200 (CEST)"
	r, err := ParseReceived(in)
	require.NoError(t, err)
	assert.Equal(t, "mail.example.com", r.From)
	assert.Equal(t, "(mail.example.com [192.0.2.1])", r.FromComment)
	assert.Equal(t, "mx.example.net", r.By)
	assert.Equal(t, "(Postfix)", r.ByComment)
	assert.Equal(t, "ESMTPS", r.With)
	assert.Equal(t, "4ABC123", r.ID)
	assert.Equal(t, "bob@example.net", r.For)
	assert.True(t, r.Date.Equal(time.Date(2003, 7, 1, 8, 52, 37, 0, time.UTC)))
	assert.Empty(t, r.Other)

	s := r.String()
	assert.Equal(t, "from mail.example.com (mail.example.com [192.0.2.1]) by mx.example.net (Postfix) with ESMTPS id 4ABC123 for <bob@example.net>; Tue, 1 Jul 2003 10:52:37 +0200", s)
	again, err := ParseReceived(s)
	require.NoError(t, err)
	assert.Equal(t, r.From, again.From)
	assert.Equal(t, r.For, again.For)
	assert.True(t, r.Date.Equal(again.Date))

	// RFC 5322 A.4.
	r, err = ParseReceived("from x.y.test\r\n   by example.net\r\n   via TCP\r\n   with ESMTP\r\n   id ABC12345\r\n   for <mary@example.net>;  21 Nov 1997 10:05:43 -0600")
	require.NoError(t, err)
	assert.Equal(t, Received{From: "x.y.test", By: "example.net", Via: "TCP", With: "ESMTP", ID: "ABC12345", For: "mary@example.net",
		Date: r.Date}, *r)

	r, err = ParseReceived("by localhost with LMTP id xyz; Mon, 01 Jan 2001 00:00:00 +0000 extra")
	require.Error(t, err)
	assert.Equal(t, "localhost", r.By)

	r, err = ParseReceived("from a by b weird words")
	require.Error(t, err)
	assert.Equal(t, []string{"weird", "words"}, r.Other)
}

func TestReturnPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<>", ""},
		{" < > ", ""},
		{"<bounce@example.com>", "bounce@example.com"},
		{"<@relay.test:bounce@example.com>", "bounce@example.com"},
		{"bounce@example.com", "bounce@example.com"},
	}
	for _, tc := range tests {
		got, err := ParseReturnPath(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got)
	}
	for _, in := range []string{"", "<> x", "<a@b> c", "<nope>"} {
		_, err := ParseReturnPath(in)
		require.Error(t, err, in)
	}
	assert.Equal(t, "<>", FormatReturnPath(""))
	assert.Equal(t, `<"a b"@x.test>`, FormatReturnPath("a b@x.test"))
}

func TestValidate(t *testing.T) {
	h, _, err := parseHeaderBytes([]byte(sampleMsg))
	require.NoError(t, err)
	assert.Empty(t, Validate(h))

	bad, _, err := parseHeaderBytes([]byte("From: a@x.test, b@x.test\r\nTo: c@x.test\r\nTo: d@x.test\r\n" +
		"Subject: one\r\nSubject: two\r\nMessage-ID: nonsense here\r\nCc: <broken\r\nX: " +
		strings.Repeat("y", 1000) + "\r\n\r\n"))
	require.NoError(t, err)
	ps := Validate(bad)
	fields := map[string]bool{}
	for _, p := range ps {
		fields[p.Field] = true
		assert.NotEmpty(t, p.Error())
	}
	for _, f := range []string{"Date", "Sender", "To", "Subject", "Message-ID", "Cc", "X"} {
		assert.True(t, fields[f], "no problem reported for %s: %v", f, ps)
	}

	var r Header
	r.Add("Resent-To", "x@y.test")
	r.Add("Resent-From", "a@x.test, b@x.test")
	r.Add("Date", FormatDate(time.Now()))
	r.Add("From", "a@x.test")
	rp := map[string]bool{}
	for _, p := range Validate(&r) {
		rp[p.Field] = true
	}
	assert.Equal(t, map[string]bool{"Resent-Date": true, "Resent-Sender": true}, rp)

	var g Header
	g.Add("From", "Team: a@x.test, b@x.test;")
	g.Add("Sender", "a@x.test")
	g.Add("Date", FormatDate(time.Now()))
	assert.Empty(t, Validate(&g))
	// RFC 6854 §2.1 asks for Sender only when From has more than one
	// mailbox; §4 gives "From: Nightly Monitor Robot:;" without one.
	for _, from := range []string{"Nightly Monitor Robot:;", "Team: a@x.test;", "Team:;, a@x.test"} {
		var e Header
		e.Add("From", from)
		e.Add("Date", FormatDate(time.Now()))
		assert.Empty(t, Validate(&e), from)
	}
	var e Header
	e.Add("From", "Team: a@x.test;, b@x.test")
	e.Add("Date", FormatDate(time.Now()))
	assert.Equal(t, []Problem{{"Sender", "required when From has more than one mailbox"}}, Validate(&e))
	e.Add("Sender", "Helpers: a@x.test, c@x.test;")
	assert.Equal(t, []Problem{{"Sender", "must be a single mailbox"}}, Validate(&e))
}

func TestRecipientsAndStripBcc(t *testing.T) {
	var h Header
	h.Add("From", "me@x.test")
	h.Add("To", "A <a@x.test>, Team: b@x.test, c@x.test;")
	h.Add("Cc", "A@X.test, d@x.test")
	h.Add("Bcc", "secret@y.test")
	h.Add("Bcc", "")
	rcpts, err := Recipients(&h)
	require.NoError(t, err)
	assert.Equal(t, []string{"a@x.test", "b@x.test", "c@x.test", "d@x.test", "secret@y.test"}, rcpts)
	StripBcc(&h)
	assert.False(t, h.Has("Bcc"))
	var out bytes.Buffer
	_, err = h.WriteTo(&out)
	require.NoError(t, err)
	assert.NotContains(t, out.String(), "secret")

	h.Add("To", "<broken")
	_, err = Recipients(&h)
	require.Error(t, err)
}

func TestWriter(t *testing.T) {
	var h Header
	h.Add("From", "André Pirard <andre@example.com>")
	h.Add("To", "bob@example.com")
	h.Add("Subject", "Héllo wörld, this subject is long enough that it has to be folded somewhere along the line")
	h.Add("Date", "Fri, 21 Nov 1997 09:55:06 -0600")
	var out bytes.Buffer
	w, err := NewWriter(&out, &h, nil)
	require.NoError(t, err)
	_, err = w.Write([]byte("line one\nline two\r\nline three\r"))
	require.NoError(t, err)
	_, err = w.Write([]byte("\nend"))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	s := out.String()
	assert.Equal(t, "From: =?UTF-8?Q?Andr=C3=A9_Pirard?= <andre@example.com>\r\n"+
		"To: bob@example.com\r\n"+
		"Subject: =?UTF-8?Q?H=C3=A9llo_w=C3=B6rld=2C?= this subject is long enough\r\n"+ // 76 (RFC 2047 §2)
		" that it has to be folded somewhere along the line\r\n"+
		"Date: Fri, 21 Nov 1997 09:55:06 -0600\r\n"+
		"\r\n"+
		"line one\r\nline two\r\nline three\r\nend", s)
	for _, line := range strings.Split(s, "\r\n") {
		assert.LessOrEqual(t, len(line), PreferredLineLength, line)
	}

	// Reading it back gives the values.
	m, err := Read(strings.NewReader(s))
	require.NoError(t, err)
	subj, err := DecodeWords(m.Header.Get("Subject"))
	require.NoError(t, err)
	assert.Equal(t, h.Get("Subject"), subj)
	from, err := ParseAddressList(m.Header.Get("From"))
	require.NoError(t, err)
	assert.Equal(t, "André Pirard", from[0].Name)

	// RFC 6532: raw UTF-8 when asked.
	out.Reset()
	w, err = NewWriter(&out, &h, &WriteOptions{UTF8: true})
	require.NoError(t, err)
	require.NoError(t, w.Close())
	assert.Contains(t, out.String(), "From: André Pirard <andre@example.com>\r\n")
	assert.Contains(t, out.String(), "Subject: Héllo wörld,")
}

func TestWriterShortFirstWord(t *testing.T) {
	var h Header
	h.Add("Subject", strings.Repeat("日本語", 30))
	var out bytes.Buffer
	_, err := h.WriteTo(&out)
	require.NoError(t, err)
	for _, line := range strings.Split(out.String(), "\r\n") {
		assert.LessOrEqual(t, len(line), PreferredLineLength, line)
	}
}

func TestWriterErrors(t *testing.T) {
	tests := []struct {
		name, value string
		err         error
	}{
		{"Subject", "hi\r\nBcc: evil@x.test", ErrNewline},
		{"Subject", "hi\nthere", ErrNewline},
		{"Subject", "hi\rthere", ErrNewline},
		{"Bad Name", "x", ErrFieldName},
		{"Bad:Name", "x", ErrFieldName},
		{"", "x", ErrFieldName},
		{"Message-ID", "<é@x>", ErrNonASCII},
		{"To", "a\x00@x.test", ErrControl},
		{"X-Long", strings.Repeat("x", 1200), ErrWordTooLong},
	}
	for _, tc := range tests {
		var h Header
		h.Add(tc.name, tc.value)
		_, err := NewWriter(&bytes.Buffer{}, &h, nil)
		require.ErrorIs(t, err, tc.err, tc.name)
		_, err = h.WriteTo(&bytes.Buffer{})
		require.ErrorIs(t, err, tc.err, tc.name)
	}
}

func TestFold(t *testing.T) {
	v := strings.Repeat("word ", 100)
	b, err := fold(nil, "X-Test", v)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(b), "\r\n"), "\r\n")
	assert.Greater(t, len(lines), 5)
	for i, l := range lines {
		assert.LessOrEqual(t, len(l), PreferredLineLength)
		if i > 0 {
			assert.True(t, l[0] == ' ', l)
		}
	}
	// Unfolding gives the value back (white space runs kept).
	h, _, err := parseHeaderBytes(append(b, "\r\n"...))
	require.NoError(t, err)
	assert.Equal(t, strings.TrimSpace(v), h.Get("X-Test"))

	// A long word stays whole on its own line.
	long := strings.Repeat("x", 200)
	b, err = fold(nil, "X", "a "+long+" b")
	require.NoError(t, err)
	assert.Equal(t, "X: a\r\n "+long+"\r\n b\r\n", string(b))
}

// TestHostileInputsLinear runs the parsers over large inputs built to make
// naive scanning quadratic; with linear parsers this finishes at once.
func TestHostileInputsLinear(t *testing.T) {
	n := 200000
	if testing.Short() {
		n = 20000
	}
	inputs := []string{
		strings.Repeat("=?a?q?x", n/7),
		strings.Repeat("=?utf-8?q?x ", n/12) + "?=",
		strings.Repeat("< ", n/2),
		strings.Repeat("(", n),
		strings.Repeat("\"", n),
		strings.Repeat("a@", n/2),
		strings.Repeat("[ ", n/2),
		strings.Repeat("a, ", n/3),
		strings.Repeat("G:", n/2),
	}
	for _, in := range inputs {
		_, _ = DecodeWords(in)
		_, _ = ParseAddressList(in)
		_, _ = ParseDate(in)
		_, _ = ParseMessageID(in)
		_ = ParseMessageIDList(in)
		_, _ = ParseReceived(in)
		_, _ = ParseReturnPath(in)
		_ = EncodeText(in)
	}
}

func FuzzWriteField(f *testing.F) {
	for _, s := range []string{"Hello", "Héllo wörld", "a\r\nBcc: x@y", strings.Repeat("long words ", 40), "日本語 text", " \t lead and trail \t ", "=?utf-8?q?x?="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, utf8Mode := range []bool{false, true} {
			var h Header
			h.Add("X-Test", v)
			var out bytes.Buffer
			w, err := NewWriter(&out, &h, &WriteOptions{UTF8: utf8Mode})
			if strings.ContainsAny(v, "\r\n") {
				if !errors.Is(err, ErrNewline) {
					t.Fatalf("%q: want ErrNewline, got %v", v, err)
				}
				return
			}
			if err != nil {
				return // e.g. a word too long to fold, or invalid UTF-8
			}
			w.Close()
			for _, line := range strings.Split(out.String(), "\r\n") {
				if len(line) > MaxLineLength {
					t.Fatalf("line of %d bytes", len(line))
				}
				if !utf8Mode && !isASCII(line) {
					t.Fatalf("non-ASCII line %q", line)
				}
				if hasControl(line) {
					t.Fatalf("control character in %q", line)
				}
				// RFC 2047 §2: lines holding the encoded words the
				// writer made are at most 76 characters, unless a long
				// run of white space in the value (which folding
				// keeps) leaves no room.
				if !strings.Contains(v, "=?") && strings.Contains(line, "=?UTF-8?") && len(line) > 76 &&
					!(isWSP(line[0]) && isWSP(line[1])) {
					t.Fatalf("line of %d characters with an encoded word: %q", len(line), line)
				}
			}
			m, err := Read(&out)
			if err != nil || m.Header.Len() != 1 || len(m.Header.Defects()) > 0 {
				t.Fatalf("%q: read back: %v", out.String(), err)
			}
			got := m.Header.Get("X-Test")
			if !isASCII(v) && !utf8Mode || hasControl(v) {
				got, err = DecodeWords(got)
				if err != nil {
					t.Fatalf("%q: %v", got, err)
				}
			}
			want := strings.Trim(v, " \t")
			if !utf8Mode || hasControl(v) {
				// Encoded words are UTF-8: other bytes become U+FFFD.
				want = strings.ToValidUTF8(want, "\uFFFD")
			}
			if isASCII(v) || utf8Mode {
				if got != want {
					t.Fatalf("%q -> %q", v, got)
				}
			} else if strings.Join(strings.Fields(got), " ") != strings.Join(strings.Fields(want), " ") {
				t.Fatalf("%q -> %q", v, got)
			}
		}
	})
}

func FuzzParseReceived(f *testing.F) {
	for _, s := range []string{
		"from mail.example.com (mail.example.com [192.0.2.1]) by mx.example.net (Postfix) with ESMTPS id 4ABC for <bob@example.net>; Tue, 1 Jul 2003 10:52:37 +0200 (CEST)",
		"from x.y.test\r\n by example.net\r\n via TCP\r\n with ESMTP\r\n id ABC12345\r\n for <mary@example.net>;  21 Nov 1997 10:05:43 -0600",
		"by localhost; junk", "from [", "<>", "<@a:b@c>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseReceived(s)
		if r == nil {
			t.Fatal("nil Received")
		}
		if err == nil && r.Date.Year() >= 0 && r.Date.Year() <= 9999 && !strings.ContainsAny(s, "\"\\") {
			again, err := ParseReceived(r.String())
			if err != nil || !again.Date.Equal(r.Date) || again.By != r.By || again.With != r.With {
				t.Fatalf("%q -> %q -> %+v, %v", s, r.String(), again, err)
			}
		}
		if addr, err := ParseReturnPath(s); err == nil {
			back, err := ParseReturnPath(FormatReturnPath(addr))
			if err != nil || back != addr {
				t.Fatalf("return path %q -> %q -> %q, %v", s, addr, back, err)
			}
		}
	})
}

package smtp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/mailwire/mailwire/internal/textline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEnhancedCode(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want EnhancedCode
		ok   bool
	}{
		{"5.1.1", EnhancedCode{5, 1, 1}, true},
		{"2.0.0", EnhancedCode{2, 0, 0}, true},
		{"4.7.999", EnhancedCode{4, 7, 999}, true},
		{"5.5.1000", EnhancedCode{}, false},
		{"3.1.1", EnhancedCode{}, false},
		{"55.1.1", EnhancedCode{}, false},
		{"5.1", EnhancedCode{}, false},
		{"5..1", EnhancedCode{}, false},
		{"5.a.1", EnhancedCode{}, false},
		{"", EnhancedCode{}, false},
		{".1.1", EnhancedCode{}, false},
		{"5.1.", EnhancedCode{}, false},
		{"5.1.1.", EnhancedCode{}, false},
		{"5.1.1.1", EnhancedCode{}, false},
		{"+5.1.1", EnhancedCode{}, false},
		{"5.1.1 ", EnhancedCode{}, false},
	} {
		got, err := ParseEnhancedCode(tc.in)
		if !tc.ok {
			assert.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got)
		assert.Equal(t, tc.in, got.String())
	}
	assert.Equal(t, "", NoEnhancedCode.String())
}

func TestError(t *testing.T) {
	var err error = fmt.Errorf("rcpt: %w", &Error{Code: 550, EnhancedCode: EnhancedCode{5, 1, 1}, Message: "No such user"})
	var e *Error
	require.True(t, errors.As(err, &e))
	assert.Equal(t, 550, e.Code)
	assert.True(t, e.Permanent())
	assert.False(t, e.Temporary())
	assert.True(t, IsPermanent(err))
	assert.False(t, IsTemporary(err))
	assert.True(t, IsTemporary(ErrTryLater))
	assert.Equal(t, "smtp: 550 5.1.1 No such user", e.Error())
}

func TestReadReply(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     *Reply
		err      bool
	}{
		{"single", "250 OK\r\n", &Reply{Code: 250, Lines: []string{"OK"}}, false},
		{"bare code", "250\r\n", &Reply{Code: 250, Lines: []string{""}}, false},
		// RFC 5321 §4.2.1 example of a multi-line reply.
		{"multi", "123-First line\r\n123-Second line\r\n123-234 text beginning with numbers\r\n123 The last line\r\n",
			&Reply{Code: 123, Lines: []string{"First line", "Second line", "234 text beginning with numbers", "The last line"}}, false},
		{"enhanced", "550 5.1.1 No such user\r\n", &Reply{Code: 550, EnhancedCode: EnhancedCode{5, 1, 1}, Lines: []string{"No such user"}}, false},
		{"enhanced multi", "250-2.0.0 a\r\n250 2.0.0 b\r\n", &Reply{Code: 250, EnhancedCode: EnhancedCode{2, 0, 0}, Lines: []string{"a", "b"}}, false},
		{"class mismatch kept", "250 5.1.1 odd\r\n", &Reply{Code: 250, Lines: []string{"5.1.1 odd"}}, false},
		{"ehlo", "250-mx.example greets you\r\n250-PIPELINING\r\n250 SIZE 100\r\n", &Reply{Code: 250, Lines: []string{"mx.example greets you", "PIPELINING", "SIZE 100"}}, false},
		{"bare lf tolerated", "220 hi\n", &Reply{Code: 220, Lines: []string{"hi"}}, false},
		{"code change", "250-a\r\n251 b\r\n", nil, true},
		{"garbage", "hello\r\n", nil, true},
		{"bad sep", "250_x\r\n", nil, true},
		{"truncated", "250-a\r\n", nil, true},
		{"no end", "250 a", nil, true},
		{"too long", "250 " + strings.Repeat("a", DefaultReplyLineLength) + "\r\n", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadReply(bufio.NewReader(strings.NewReader(tc.in)))
			if tc.err {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	r := &Reply{Code: 550, EnhancedCode: EnhancedCode{5, 1, 1}, Lines: []string{"a", "b"}}
	var e *Error
	require.True(t, errors.As(r.Err(), &e))
	assert.Equal(t, "a\nb", e.Message)
	assert.NoError(t, (&Reply{Code: 354}).Err())
}

func TestReadReplyTooManyLines(t *testing.T) {
	in := strings.Repeat("250-x\r\n", MaxReplyLines+1) + "250 x\r\n"
	_, err := ReadReply(bufio.NewReader(strings.NewReader(in)))
	assert.Error(t, err)
}

func TestWriteReply(t *testing.T) {
	assert.Equal(t, "250 2.1.0 Ok\r\n", FormatReply(250, EnhancedCode{2, 1, 0}, "Ok"))
	assert.Equal(t, "250-a\r\n250 b\r\n", FormatReply(250, NoEnhancedCode, "a\nb"))
	assert.Equal(t, "550-5.1.1 a\r\n550 5.1.1 b\r\n", FormatReply(550, EnhancedCode{5, 1, 1}, "a\nb"))
	// No injection of a reply line through CR.
	assert.Equal(t, "550 x 250 y\r\n", FormatReply(550, NoEnhancedCode, "x\r250 y"))
	// Round trip.
	rep, err := ReadReply(bufio.NewReader(strings.NewReader(FormatReply(452, EnhancedCode{4, 5, 3}, "Too many\nrecipients"))))
	require.NoError(t, err)
	assert.Equal(t, &Reply{Code: 452, EnhancedCode: EnhancedCode{4, 5, 3}, Lines: []string{"Too many", "recipients"}}, rep)
}

func TestParsePath(t *testing.T) {
	for _, tc := range []struct {
		in   string
		utf8 bool
		want Mailbox
		ok   bool
	}{
		{"<>", false, Mailbox{}, true},
		{"<a@b.example>", false, Mailbox{"a", "b.example"}, true},
		{"<Postmaster>", false, Mailbox{"Postmaster", ""}, true},
		{"<@relay.example,@r2.example:user@b.example>", false, Mailbox{"user", "b.example"}, true},
		{`<"john doe"@b.example>`, false, Mailbox{"john doe", "b.example"}, true},
		{`<"a\"b\\c"@b.example>`, false, Mailbox{`a"b\c`, "b.example"}, true},
		{"<a@[192.0.2.1]>", false, Mailbox{"a", "[192.0.2.1]"}, true},
		{"<a@[IPv6:2001:db8::1]>", false, Mailbox{"a", "[IPv6:2001:db8::1]"}, true},
		{"<a@[x-tag:stuff]>", false, Mailbox{"a", "[x-tag:stuff]"}, true},
		{"<a.b+c@sub.b.example>", false, Mailbox{"a.b+c", "sub.b.example"}, true},
		{"<用户@例子.广告>", true, Mailbox{"用户", "例子.广告"}, true},
		{"<用户@例子.广告>", false, Mailbox{}, false},
		{"<a@[999.0.2.1]>", false, Mailbox{}, false},
		{"<a@[IPv6:zz]>", false, Mailbox{}, false},
		{"<a..b@c>", false, Mailbox{}, false},
		{"<.a@c>", false, Mailbox{}, false},
		{"<a@>", false, Mailbox{}, false},
		{"<a@-b.example>", false, Mailbox{}, false},
		{"<a@b..example>", false, Mailbox{}, false},
		{"<user>", false, Mailbox{}, false},
		{"a@b", false, Mailbox{}, false},
		{"<a b@c>", false, Mailbox{}, false},
		{"<" + strings.Repeat("a", 65) + "@b.example>", false, Mailbox{}, false},
		{"<a@" + strings.Repeat("b", 64) + ".example>", false, Mailbox{}, false},
		{"<@relay.example:a@b>", false, Mailbox{"a", "b"}, true},
		{"<@relay.example>", false, Mailbox{}, false},
		{"<\"unterminated@b>", false, Mailbox{}, false},
		{"<a@b\xff>", true, Mailbox{}, false},
	} {
		got, err := ParsePath(tc.in, tc.utf8)
		if !tc.ok {
			assert.Error(t, err, tc.in)
			assert.ErrorIs(t, err, ErrPathSyntax, tc.in)
			continue
		}
		if assert.NoError(t, err, tc.in) {
			assert.Equal(t, tc.want, got, tc.in)
		}
	}
}

func TestMailboxString(t *testing.T) {
	assert.Equal(t, "a@b", Mailbox{"a", "b"}.String())
	assert.Equal(t, `"john doe"@b`, Mailbox{"john doe", "b"}.String())
	assert.Equal(t, `"a\"b"@b`, Mailbox{`a"b`, "b"}.String())
	assert.Equal(t, `"a..b"@b`, Mailbox{`a..b`, "b"}.String())
	assert.Equal(t, "<>", Mailbox{}.Path())
	assert.Equal(t, "<Postmaster>", Mailbox{Local: "Postmaster"}.Path())
}

func TestMailArg(t *testing.T) {
	m, o, err := parseMailArg("FROM:<a@b.example> SIZE=1000 BODY=8bitmime RET=HDRS ENVID=QQ+2B314159 AUTH=e+3Dmc2@example.com")
	require.NoError(t, err)
	a := "e=mc2@example.com"
	assert.Equal(t, Mailbox{"a", "b.example"}, m)
	assert.Equal(t, &MailOptions{Size: 1000, Body: Body8BitMIME, Return: ReturnHeaders, EnvelopeID: "QQ+314159", Auth: &a}, o)

	m, o, err = parseMailArg("from: <> AUTH=<>")
	require.NoError(t, err)
	assert.True(t, m.IsNull())
	require.NotNil(t, o.Auth)
	assert.Equal(t, "", *o.Auth)

	_, o, err = parseMailArg("FROM:<δ@例子.test> SMTPUTF8 BODY=8BITMIME")
	require.NoError(t, err)
	assert.True(t, o.UTF8)
	_, _, err = parseMailArg("FROM:<δ@例子.test>")
	assert.Error(t, err)

	for _, bad := range []string{
		"FROM:<a@b> SIZE=x", "FROM:<a@b> SIZE=-1", "FROM:<a@b> BODY=9BIT", "FROM:<a@b> RET=ALL",
		"FROM:<a@b> SIZE=1 SIZE=2", "FROM:<a@b> BODY=7BIT BODY=8BITMIME", "FROM:<a@b> SMTPUTF8=yes", "FROM:<a@b> ENVID=a+zz",
		"FROM:<a@b>SIZE=1", "TO:<a@b>", "FROM:", "FROM:<a@b> =x", "FROM:<a@b> SIZE=",
	} {
		_, _, err := parseMailArg(bad)
		assert.ErrorIs(t, err, errAnySyntax(err), bad)
		assert.Error(t, err, bad)
	}
	_, _, err = parseMailArg("FROM:<a@b> FOO=bar")
	assert.ErrorIs(t, err, errUnknownParam)
}

func errAnySyntax(err error) error {
	if errors.Is(err, ErrPathSyntax) {
		return ErrPathSyntax
	}
	return ErrParamSyntax
}

func TestRcptArg(t *testing.T) {
	m, o, err := parseRcptArg("TO:<b@c.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+2Bx@c.example", false)
	require.NoError(t, err)
	assert.Equal(t, Mailbox{"b", "c.example"}, m)
	assert.Equal(t, &RcptOptions{Notify: []DSNNotify{NotifySuccess, NotifyFailure}, OriginalRecipientType: "rfc822", OriginalRecipient: "b+x@c.example"}, o)
	for _, bad := range []string{"TO:<>", "TO:<b@c> NOTIFY=NEVER,SUCCESS", "TO:<b@c> NOTIFY=SOMETIMES",
		"TO:<b@c> ORCPT=rfc822", "TO:<b@c> NOTIFY=DELAY,DELAY", "TO:<δ@c>"} {
		_, _, err := parseRcptArg(bad, false)
		assert.Error(t, err, bad)
	}
	_, _, err = parseRcptArg("TO:<δ@c>", true)
	assert.NoError(t, err)
}

func TestFormatCommands(t *testing.T) {
	a := "e=mc2@example.com"
	line, err := FormatMail(Mailbox{"a", "b.example"}, &MailOptions{Size: 10, Body: BodyBinaryMIME, UTF8: true, Return: ReturnFull, EnvelopeID: "id 1", Auth: &a})
	require.NoError(t, err)
	assert.Equal(t, "MAIL FROM:<a@b.example> SIZE=10 BODY=BINARYMIME SMTPUTF8 RET=FULL ENVID=id+201 AUTH=e+3Dmc2@example.com", line)
	m, o, err := parseMailArg(strings.TrimPrefix(line, "MAIL "))
	require.NoError(t, err)
	assert.Equal(t, Mailbox{"a", "b.example"}, m)
	assert.Equal(t, "id 1", o.EnvelopeID)

	line, err = FormatMail(Mailbox{}, nil)
	require.NoError(t, err)
	assert.Equal(t, "MAIL FROM:<>", line)

	_, err = FormatMail(Mailbox{"δ", "x"}, nil)
	assert.Error(t, err)
	_, err = FormatMail(Mailbox{"a\r\nRCPT", "x"}, nil)
	assert.Error(t, err)

	line, err = FormatRcpt(Mailbox{"b", "c"}, &RcptOptions{Notify: []DSNNotify{NotifyNever}, OriginalRecipient: "b@c"}, false)
	require.NoError(t, err)
	assert.Equal(t, "RCPT TO:<b@c> NOTIFY=NEVER ORCPT=rfc822;b@c", line)
	_, err = FormatRcpt(Mailbox{}, nil, false)
	assert.Error(t, err)
}

func TestXtext(t *testing.T) {
	for _, tc := range []struct{ dec, enc string }{
		{"abc", "abc"},
		{"a+b=c", "a+2Bb+3Dc"},
		{"a b\x01", "a+20b+01"},
		{"", ""},
	} {
		assert.Equal(t, tc.enc, EncodeXtext(tc.dec))
		d, err := DecodeXtext(tc.enc)
		require.NoError(t, err)
		assert.Equal(t, tc.dec, d)
	}
	d, err := DecodeXtext("a+2bb")
	require.NoError(t, err)
	assert.Equal(t, "a+b", d)
	for _, bad := range []string{"a+", "a+2", "a+zz", "a=b", "a b"} {
		_, err := DecodeXtext(bad)
		assert.Error(t, err, bad)
	}
}

func TestDotWriter(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ".\r\n"},
		{"a", "a\r\n.\r\n"},
		{"a\r\n", "a\r\n.\r\n"},
		{".a\r\n.\r\nb", "..a\r\n..\r\nb\r\n.\r\n"},
		{"a\nb\rc\r\n", "a\r\nb\r\nc\r\n.\r\n"},
		{"a\r", "a\r\n.\r\n"},
		{"x\n.\n", "x\r\n..\r\n.\r\n"},
		{"\r\n.\r\n", "\r\n..\r\n.\r\n"},
		{"a\r\r\n.", "a\r\n\r\n..\r\n.\r\n"},
	} {
		// Byte at a time and all at once must agree.
		for _, chunk := range []int{1, 2, 1 << 20} {
			var b bytes.Buffer
			w := NewDotWriter(&b)
			in := []byte(tc.in)
			for len(in) > 0 {
				n := min(chunk, len(in))
				m, err := w.Write(in[:n])
				require.NoError(t, err)
				require.Equal(t, n, m)
				in = in[n:]
			}
			require.NoError(t, w.Close())
			assert.Equal(t, tc.want, b.String(), "%q chunk %d", tc.in, chunk)
		}
	}
	w := NewDotWriter(io.Discard)
	require.NoError(t, w.Close())
	_, err := w.Write([]byte("x"))
	assert.ErrorIs(t, err, ErrDotWriterClosed)
}

// readData runs the data reader over in and returns the content, the error,
// what is left unread after the end of data, and the reader.
func readData(in string, policy BareNewlinePolicy, max int64) (string, error, string, *dataReader) {
	tr := textline.NewReader(strings.NewReader(in), 64)
	d := newDataReader(tr, policy, false, max)
	got, err := io.ReadAll(d)
	d.drain()
	rest, _ := io.ReadAll(tr)
	return string(got), err, string(rest), d
}

func TestDataReader(t *testing.T) {
	for _, tc := range []struct {
		name, in   string
		policy     BareNewlinePolicy
		want, rest string
		err        error
		bare       bool
	}{
		{"empty", ".\r\n", BareNewlineReject, "", "", nil, false},
		{"simple", "a\r\nb\r\n.\r\nQUIT\r\n", BareNewlineReject, "a\r\nb\r\n", "QUIT\r\n", nil, false},
		{"unstuff", "..a\r\n..\r\n.\r\n", BareNewlineReject, ".a\r\n.\r\n", "", nil, false},
		{"long line", strings.Repeat("x", 200) + "\r\n.\r\n", BareNewlineReject, strings.Repeat("x", 200) + "\r\n", "", nil, false},
		{"long line dot not start", strings.Repeat("x", 64) + ".\r\n.\r\n", BareNewlineReject, strings.Repeat("x", 64) + ".\r\n", "", nil, false},
		{"eof", "a\r\nb", BareNewlineReject, "a\r\n", "", io.ErrUnexpectedEOF, false},
		// Smuggling: none of these ends the data.
		{"LF.LF", "a\n.\nMAIL FROM:<x@y>\r\n.\r\nN", BareNewlineKeep, "a\n.\nMAIL FROM:<x@y>\r\n", "N", nil, true},
		{"CRLF.LF", "a\r\n.\nb\r\n.\r\nN", BareNewlineKeep, "a\r\n\nb\r\n", "N", nil, true},
		{"LF.CRLF", "a\n.\r\nb\r\n.\r\nN", BareNewlineKeep, "a\n.\r\nb\r\n", "N", nil, true},
		{"CR.CR", "a\r.\rb\r\n.\r\nN", BareNewlineKeep, "a\r.\rb\r\n", "N", nil, true},
		{"CR.CRLF", "a\r.\r\nb\r\n.\r\nN", BareNewlineKeep, "a\r.\r\nb\r\n", "N", nil, true},
		{"CRLF.CR", "a\r\n.\rb\r\n.\r\nN", BareNewlineKeep, "a\r\n\rb\r\n", "N", nil, true},
		{"normalize", "a\nb\rc\r\n.\r\nN", BareNewlineNormalize, "a\r\nb\r\nc\r\n", "N", nil, true},
		{"reject", "a\n.\nevil\r\n.\r\nN", BareNewlineReject, "a", "N", ErrBareNewline, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err, rest, d := readData(tc.in, tc.policy, 0)
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
			} else {
				assert.NoError(t, err)
			}
			if tc.err != ErrBareNewline {
				assert.Equal(t, tc.want, got)
			}
			assert.Equal(t, tc.rest, rest)
			assert.Equal(t, tc.bare, d.bare)
		})
	}
}

// TestDataReaderNUL: a NUL octet never ends the data; it fails the reader
// at its line unless NUL is allowed, and the rest is still consumed.
func TestDataReaderNUL(t *testing.T) {
	for _, tc := range []struct {
		name, in, want, rest string
		nulOK                bool
	}{
		{"CRLF NUL dot CRLF", "a\r\n\x00.\r\nMAIL FROM:<x@y>\r\n.\r\nN", "a\r\n\x00.\r\nMAIL FROM:<x@y>\r\n", "N", false},
		{"NUL after the dot", "a\r\n.\x00\r\nb\r\n.\r\nN", "a\r\n\x00\r\nb\r\n", "N", false},
		{"NUL inside a line", "a\x00b\r\n.\r\nN", "a\x00b\r\n", "N", false},
		{"NUL in a long line", strings.Repeat("x", 100) + "\x00\r\n.\r\nN", strings.Repeat("x", 100) + "\x00\r\n", "N", false},
		{"allowed", "a\r\n\x00.\r\n.\r\nN", "a\r\n\x00.\r\n", "N", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := textline.NewReader(strings.NewReader(tc.in), 64)
			d := newDataReader(tr, BareNewlineReject, tc.nulOK, 0)
			got, err := io.ReadAll(d)
			require.NoError(t, d.drain())
			rest, _ := io.ReadAll(tr)
			assert.Equal(t, tc.rest, string(rest), "the data ends at CRLF . CRLF only")
			if tc.nulOK {
				require.NoError(t, err)
				assert.Equal(t, tc.want, string(got))
				assert.False(t, d.nul)
				return
			}
			assert.ErrorIs(t, err, ErrNUL)
			assert.NotContains(t, string(got), "\x00", "the reader stops before the NUL's line")
			assert.True(t, d.nul)
		})
	}
}

func TestDataReaderLimit(t *testing.T) {
	in := strings.Repeat("0123456789\r\n", 100) + ".\r\nNEXT"
	_, err, rest, d := readData(in, BareNewlineReject, 500)
	assert.ErrorIs(t, err, ErrMessageTooLarge)
	assert.True(t, d.over)
	assert.Equal(t, "NEXT", rest)
	got, err, _, d := readData(in, BareNewlineReject, 1200)
	assert.NoError(t, err)
	assert.Len(t, got, 1200)
	assert.False(t, d.over)
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"MAIL FROM:<a@b> SIZE=10", "rcpt to:<b@c> NOTIFY=NEVER", "EHLO x", "BDAT 10 LAST", "DATA", "AUTH PLAIN =", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		verb, arg := parseCommand(line)
		switch verb {
		case "MAIL":
			m, o, err := parseMailArg(arg)
			if err == nil {
				l, err := FormatMail(m, o)
				if err == nil {
					m2, _, err := parseMailArg(strings.TrimPrefix(l, "MAIL "))
					if err != nil || m2 != m {
						t.Fatalf("round trip of %q: %q %v", line, l, err)
					}
				}
			}
		case "RCPT":
			parseRcptArg(arg, true)
		case "BDAT":
			parseBDAT(arg)
		}
	})
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"<>", "<a@b>", `<"a b"@[IPv6:::1]>`, "<@r:a@b>", "<Postmaster>", "<用户@例子>"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, utf8 bool) {
		m, err := ParsePath(s, utf8)
		if err != nil {
			return
		}
		m2, err := ParsePath(m.Path(), utf8)
		if err != nil || m2 != m {
			t.Fatalf("round trip of %q via %q: %v %v", s, m.Path(), m2, err)
		}
	})
}

func FuzzParams(f *testing.F) {
	f.Add("SIZE=10 BODY=8BITMIME RET=FULL ENVID=a+2B AUTH=<>", "NOTIFY=SUCCESS,DELAY ORCPT=rfc822;a+2Bb@c")
	f.Fuzz(func(t *testing.T, mail, rcpt string) {
		if o, err := parseMailParams(mail); err == nil {
			b, err := appendMailParams(nil, o)
			if err == nil {
				o2, err := parseMailParams(string(b))
				if err != nil {
					t.Fatalf("round trip of %q via %q: %v", mail, b, err)
				}
				assert.Equal(t, o, o2)
			}
		}
		if o, err := parseRcptParams(rcpt); err == nil {
			b, err := appendRcptParams(nil, o)
			if err == nil {
				o2, err := parseRcptParams(string(b))
				if err != nil {
					t.Fatalf("round trip of %q via %q: %v", rcpt, b, err)
				}
				assert.Equal(t, o, o2)
			}
		}
		DecodeXtext(mail)
	})
}

func FuzzReadReply(f *testing.F) {
	for _, s := range []string{"250 OK\r\n", "250-a\r\n250 b\r\n", "550 5.1.1 x\r\n", "2\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rep, err := ReadReply(bufio.NewReader(strings.NewReader(s)))
		if err != nil {
			return
		}
		if rep.Code < 100 || rep.Code > 599 || len(rep.Lines) == 0 {
			t.Fatalf("bad reply %+v from %q", rep, s)
		}
	})
}

func FuzzDataReader(f *testing.F) {
	for _, s := range []string{"a\r\n.\r\n", "a\n.\n.\r\n", "..\r\n.\r\n", "\r.\r\r\n.\r\n"} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, in string, policy uint8) {
		p := BareNewlinePolicy(policy % 3)
		got, err, rest, d := readData(in, p, 0)
		// The end of data is the first CRLF.CRLF (or .CRLF at the very start):
		// everything after it must be left unread.
		end := strings.Index("\r\n"+in, "\r\n.\r\n")
		if end < 0 {
			if err == nil {
				t.Fatalf("no end of data in %q but no error", in)
			}
			return
		}
		assert.Equal(t, in[end+3:], rest)
		if err == nil && p == BareNewlineKeep {
			// Writing it back stuffs it to the same bytes.
			var b bytes.Buffer
			if !d.bare {
				w := NewDotWriter(&b)
				w.Write([]byte(got))
				w.Close()
				again, err, _, _ := readData(b.String(), p, 0)
				assert.NoError(t, err)
				assert.Equal(t, got, again)
			}
		}
	})
}

// FuzzParseEnhancedCode checks the in-place parser against the grammar of
// RFC 3463 §2 written the plain way.
func FuzzParseEnhancedCode(f *testing.F) {
	for _, s := range []string{"5.1.1", "2.0.0", "4.7.999", "5.5.1000", "55.1.1", "5..1", "5.01.001", "5.1.1."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseEnhancedCode(s)
		parts := strings.Split(s, ".")
		ok := len(parts) == 3
		var n [3]int
		for i, p := range parts {
			if !ok {
				break
			}
			if len(p) == 0 || len(p) > 3 || i == 0 && len(p) != 1 || strings.Trim(p, "0123456789") != "" {
				ok = false
				break
			}
			for _, c := range []byte(p) {
				n[i] = n[i]*10 + int(c-'0')
			}
		}
		ok = ok && (n[0] == 2 || n[0] == 4 || n[0] == 5)
		if ok != (err == nil) {
			t.Fatalf("ParseEnhancedCode(%q) = %v, %v; want ok=%v", s, got, err, ok)
		}
		if ok && got != (EnhancedCode{n[0], n[1], n[2]}) {
			t.Fatalf("ParseEnhancedCode(%q) = %v", s, got)
		}
	})
}

func BenchmarkReadReply(b *testing.B) {
	const rep = "250-mx.example.org greets client\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n250 2.0.0 Ok\r\n" +
		"550-5.1.1 No such user here\r\n550-5.1.1 Please check the address\r\n550 5.1.1 and try again\r\n"
	r := strings.NewReader(rep)
	tr := textline.NewReader(r, DefaultReplyLineLength)
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(rep)
		tr.Reset(r)
		for range 2 {
			if _, err := readReply(tr); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkFormatRcpt(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		m, err := parseClientAddr("someone.else@mail.sub.example.org", false)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := formatRcpt(m, nil, false, true); err != nil {
			b.Fatal(err)
		}
	}
}

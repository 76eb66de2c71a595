package smtp

import (
	"bytes"
	"errors"
	"io"
	"mime/quotedprintable"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// errCannotConvert is what testTo7bit fails with.
var errCannotConvert = errors.New("8-bit address")

// testTo7bit stands in for mime.To7bit (which the examples use with real
// peers): it quoted-printable encodes the whole message, and fails on an
// 8-bit From field after writing part of the message.
func testTo7bit(dst io.Writer, src io.Reader) error {
	b, err := io.ReadAll(src)
	if err != nil {
		return err
	}
	qp := quotedprintable.NewWriter(dst)
	if i := bytes.Index(b, []byte("From: j\xc3\xb6rg")); i >= 0 {
		qp.Write(b[:i])
		qp.Close()
		return errCannotConvert
	}
	qp.Write(b)
	return qp.Close()
}

const (
	msg8bit   = "From: a@a.example.test\r\nTo: b@b.example.test\r\nSubject: 8 bits\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße aus Köln\r\n"
	msgBinary = "From: a@a.example.test\r\nTo: b@b.example.test\r\nMIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n\x00\x01\xff\r.\n"
	msg8addr  = "From: jörg@a.example.test\r\nTo: b@b.example.test\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße\r\n"
)

// TestClientBodyType: Send passes the declared body type on as BODY=, and
// to a server without the extension either fails before MAIL with an
// *UnsupportedError or, with Envelope.Downgrade, converts the message to 7
// bits (before: mailctl sent 8bit content without BODY=8BITMIME, also to
// servers without 8BITMIME).
func TestClientBodyType(t *testing.T) {
	for _, tc := range []struct {
		name       string
		drop       []string // extensions the client is made to think missing
		noChunking bool
		opts       MailOptions
		downgrade  bool
		msg        string
		missing    string   // the *UnsupportedError's Extension
		errIs      error    // another error expected
		body       BodyType // BODY= the server got
		sevenBit   bool     // the stored message is 7-bit and not the original
	}{
		{name: "8BITMIME offered", opts: MailOptions{Body: Body8BitMIME}, msg: msg8bit, body: Body8BitMIME},
		{name: "8BITMIME offered, downgrade not needed", opts: MailOptions{Body: Body8BitMIME}, downgrade: true, msg: msg8bit, body: Body8BitMIME},
		{name: "8BITMIME missing", drop: []string{"8BITMIME"}, opts: MailOptions{Body: Body8BitMIME}, msg: msg8bit, missing: "8BITMIME"},
		{name: "8BITMIME missing, downgraded", drop: []string{"8BITMIME"}, opts: MailOptions{Body: Body8BitMIME, Size: 500}, downgrade: true, msg: msg8bit, sevenBit: true},
		{name: "7BIT to a server without 8BITMIME: no BODY=", drop: []string{"8BITMIME"}, opts: MailOptions{Body: Body7Bit}, msg: "Subject: x\r\n\r\nascii\r\n"},
		{name: "7BIT with 8BITMIME", opts: MailOptions{Body: Body7Bit}, msg: "Subject: x\r\n\r\nascii\r\n", body: Body7Bit},
		{name: "BINARYMIME offered", opts: MailOptions{Body: BodyBinaryMIME}, msg: msgBinary, body: BodyBinaryMIME},
		{name: "BINARYMIME missing", drop: []string{"BINARYMIME"}, opts: MailOptions{Body: BodyBinaryMIME}, msg: msgBinary, missing: "BINARYMIME"},
		{name: "CHUNKING off", noChunking: true, opts: MailOptions{Body: BodyBinaryMIME}, msg: msgBinary, missing: "CHUNKING"},
		{name: "BINARYMIME missing, downgraded over BDAT", drop: []string{"BINARYMIME"}, opts: MailOptions{Body: BodyBinaryMIME}, downgrade: true, msg: msgBinary, body: Body7Bit, sevenBit: true},
		{name: "CHUNKING off, downgraded over DATA", noChunking: true, opts: MailOptions{Body: BodyBinaryMIME}, downgrade: true, msg: msgBinary, body: Body7Bit, sevenBit: true},
		{name: "SMTPUTF8 missing", drop: []string{"SMTPUTF8"}, opts: MailOptions{UTF8: true}, msg: msg8addr, missing: "SMTPUTF8"},
		{name: "SMTPUTF8 missing, no downgrade for it", drop: []string{"SMTPUTF8", "8BITMIME"}, opts: MailOptions{UTF8: true, Body: Body8BitMIME}, downgrade: true, msg: msg8addr, missing: "SMTPUTF8"},
		{name: "an 8-bit address cannot be downgraded", drop: []string{"8BITMIME"}, opts: MailOptions{Body: Body8BitMIME}, downgrade: true, msg: msg8addr, errIs: errCannotConvert},
		{name: "an 8-bit address cannot be downgraded, BDAT", drop: []string{"BINARYMIME"}, opts: MailOptions{Body: BodyBinaryMIME}, downgrade: true, msg: msg8addr, errIs: errCannotConvert},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, rec, addr := newTestServer(t, nil)
			ctx := clientTestCtx(t)
			o := &ClientOptions{NoChunking: tc.noChunking}
			if tc.downgrade {
				o.Downgrade = testTo7bit
			}
			c, err := Dial(ctx, addr, o)
			require.NoError(t, err)
			defer c.Close()
			for _, ext := range tc.drop {
				delete(c.ext, ext)
			}
			opts := tc.opts
			_, err = c.Send(ctx, &Envelope{From: MustParseMailbox("a@a.example.test"), To: []Mailbox{MustParseMailbox("b@b.example.test")},
				MailOptions: &opts}, strings.NewReader(tc.msg))
			switch {
			case tc.missing != "":
				var ue *UnsupportedError
				require.ErrorAs(t, err, &ue)
				assert.Equal(t, tc.missing, ue.Extension)
				assert.ErrorIs(t, err, ErrUnsupported)
				require.NoError(t, c.Noop(ctx), "refused before MAIL: the session goes on")
				assert.Empty(t, rec.messages())
				return
			case tc.errIs != nil:
				require.ErrorIs(t, err, tc.errIs)
				assert.Empty(t, rec.messages(), "a message that could not be converted is not delivered")
				return
			}
			require.NoError(t, err)
			msgs := rec.messages()
			require.Len(t, msgs, 1)
			assert.Equal(t, tc.body, msgs[0].MailOpts.Body)
			got := msgs[0].Data
			if !tc.sevenBit {
				assert.Equal(t, tc.msg, got)
				return
			}
			assert.Zero(t, msgs[0].MailOpts.Size, "no SIZE: the conversion changed it")
			for i := 0; i < len(got); i++ {
				require.Less(t, got[i], byte(0x80), "8-bit octet at %d of %q", i, got)
				require.NotZero(t, got[i], "NUL at %d", i)
			}
			assert.NotEqual(t, tc.msg, got)
			// The content is the same, decoded.
			var want strings.Builder
			require.NoError(t, testTo7bit(&want, strings.NewReader(tc.msg)))
			assert.Equal(t, strings.ReplaceAll(want.String(), "\r\n", "\n"), strings.ReplaceAll(got, "\r\n", "\n"))
		})
	}
}

// TestUnsupportedError: the typed error says which extension is missing
// and still matches ErrUnsupported.
func TestUnsupportedError(t *testing.T) {
	err := error(&UnsupportedError{Extension: "8BITMIME", RFC: "RFC 6152"})
	assert.Equal(t, "smtp: not supported by the server: 8BITMIME (RFC 6152)", err.Error())
	assert.True(t, errors.Is(err, ErrUnsupported))
}

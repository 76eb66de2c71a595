package imap

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/message"
	"github.com/mailwire/mailwire/mime"
)

const nestedMsg = "From: =?UTF-8?Q?J=C3=B6rg?= <joerg@example.com>\r\n" +
	"To: undisclosed-recipients:;, Team: a@x.test, \"B b\" <b@y.test>;\r\n" +
	"Subject: nested\r\n" +
	"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n" +
	"Message-ID: <1@example.com>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n" +
	"\r\n" +
	"--b1\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Content-Language: en, de\r\n" +
	"\r\n" +
	"hello\r\nworld\r\n" +
	"--b1\r\n" +
	"Content-Type: message/rfc822\r\n" +
	"Content-Disposition: attachment; filename=\"m.eml\"\r\n" +
	"\r\n" +
	"Subject: inner\r\n" +
	"From: x@y.test\r\n" +
	"\r\n" +
	"inner body\r\n" +
	"--b1\r\n" +
	"Content-Type: application/octet-stream\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"Content-ID: <c1@x>\r\n" +
	"Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\n" +
	"Content-Location: http://x.test/a\r\n" +
	"\r\n" +
	"AAEC\r\n" +
	"--b1--\r\n"

func TestRenderEnvelopeAndStructure(t *testing.T) {
	r, err := message.Read(strings.NewReader(nestedMsg))
	require.NoError(t, err)
	env := EnvelopeString(mime.EnvelopeOf(&r.Header), false)
	assert.Equal(t, `("Mon, 1 Jan 2024 10:00:00 +0000" "nested" `+
		`(("=?UTF-8?Q?J=C3=B6rg?=" NIL "joerg" "example.com")) `+
		`(("=?UTF-8?Q?J=C3=B6rg?=" NIL "joerg" "example.com")) `+
		`(("=?UTF-8?Q?J=C3=B6rg?=" NIL "joerg" "example.com")) `+
		`((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)(NIL NIL "Team" NIL)(NIL NIL "a" "x.test")("B b" NIL "b" "y.test")(NIL NIL NIL NIL)) `+
		`NIL NIL NIL "<1@example.com>")`, env)
	envUTF8 := EnvelopeString(mime.EnvelopeOf(&r.Header), true)
	assert.Contains(t, envUTF8, `(("Jörg" NIL "joerg" "example.com"))`)

	s, err := mime.ReadStructure(strings.NewReader(nestedMsg))
	require.NoError(t, err)
	assert.Equal(t, `(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 12 1 NIL NIL ("en" "de") NIL)`+
		`("message" "rfc822" NIL NIL NIL "7bit" 44 (NIL "inner" ((NIL NIL "x" "y.test")) ((NIL NIL "x" "y.test")) ((NIL NIL "x" "y.test")) NIL NIL NIL NIL NIL) `+
		`("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 10 0 NIL NIL NIL NIL) 3 NIL ("attachment" ("filename" "m.eml")) NIL NIL)`+
		`("application" "octet-stream" NIL "<c1@x>" NIL "base64" 4 "Q2hlY2sgSW50ZWdyaXR5IQ==" NIL NIL "http://x.test/a") `+
		`"mixed" ("boundary" "b1") NIL NIL NIL)`, BodyStructureString(s, true, false))
	assert.Equal(t, `(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 12 1)`+
		`("message" "rfc822" NIL NIL NIL "7bit" 44 (NIL "inner" ((NIL NIL "x" "y.test")) ((NIL NIL "x" "y.test")) ((NIL NIL "x" "y.test")) NIL NIL NIL NIL NIL) `+
		`("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 10 0) 3)`+
		`("application" "octet-stream" NIL "<c1@x>" NIL "base64" 4) "mixed")`, BodyStructureString(s, false, false))

	// A multipart without parts and a message/rfc822 without its message
	// still give output that parses.
	empty := &mime.Structure{Type: "multipart", Subtype: "mixed"}
	assert.Equal(t, `(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0) "mixed")`, BodyStructureString(empty, false, false))
	msg := &mime.Structure{Type: "message", Subtype: "rfc822", Encoding: "7bit", Size: 3}
	assert.Equal(t, `("message" "rfc822" NIL NIL NIL "7bit" 3 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0) 0)`,
		BodyStructureString(msg, false, false))
}

func TestRenderParams(t *testing.T) {
	s := &mime.Structure{Type: "application", Subtype: "pdf", Encoding: "base64", Size: 8,
		Params: map[string]string{"name": "été.pdf"}, Disposition: "attachment", DispositionParams: map[string]string{"filename": "a b.pdf"}}
	assert.Equal(t, `("application" "pdf" ("name*" "utf-8''%C3%A9t%C3%A9.pdf") NIL NIL "base64" 8 NIL ("attachment" ("filename" "a b.pdf")) NIL NIL)`,
		BodyStructureString(s, true, false))
	assert.Equal(t, `("application" "pdf" ("name" "été.pdf") NIL NIL "base64" 8 NIL ("attachment" ("filename" "a b.pdf")) NIL NIL)`,
		BodyStructureString(s, true, true))
}

package message

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mailwire/mailwire/internal/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pyParse reads a message on stdin with Python's email package (the
// RFC 5322/6532-aware default policy) and prints what it found as JSON.
const pyParse = `
import sys, json, email
from email import policy
msg = email.message_from_bytes(sys.stdin.buffer.read(), policy=policy.default)
def addrs(name):
    out = []
    for v in msg.get_all(name) or []:
        for g in v.groups:
            out.append({"group": g.display_name, "mailboxes": [[a.display_name, a.addr_spec] for a in g.addresses]})
    return out
print(json.dumps({
    "subject": str(msg["Subject"]),
    "from": addrs("From"), "to": addrs("To"), "cc": addrs("Cc"),
    "date": msg["Date"].datetime.isoformat() if msg["Date"] else "",
    "msgid": str(msg["Message-ID"]),
    "body": msg.get_payload(),
    "defects": [str(d) for d in msg.defects],
}))
`

// pyCompose writes a message with Python's email package, with non-ASCII
// text in the subject and display names, and a long folded subject.
const pyCompose = `
import sys
from email.message import EmailMessage
from email.headerregistry import Address, Group
from email import policy
m = EmailMessage(policy=policy.SMTP)
m["From"] = Address("Jöran Øster", "joran", "example.com")
# Kept short: when Python folds an address list it may encode the comma
# between addresses as "=?utf-8?q?=2C?=", which is not valid syntax.
m["To"] = [Address("Zoë Saldaña", "zoe", "example.net"), Group("Team", [Address("Ann", "ann", "x.org")])]
m["Cc"] = Group("undisclosed-recipients", [])
m["Subject"] = "Grüße aus Köln – a long subject line that certainly needs folding because it goes on and on, 日本語も"
m["Date"] = "Tue, 01 Jul 2003 10:52:37 +0200"
m["Message-ID"] = "<abc.123@example.com>"
m.set_content("Hallo Welt\n")
sys.stdout.buffer.write(m.as_bytes())
`

type pyResult struct {
	Subject string
	From    []pyGroup
	To      []pyGroup
	Cc      []pyGroup
	Date    string
	MsgID   string
	Body    string
	Defects []string
}

type pyGroup struct {
	Group     *string
	Mailboxes [][2]string
}

// TestInteropPythonReads writes messages with Writer and checks that
// Python's email package reads the same values back.
func TestInteropPythonReads(t *testing.T) {
	py := peer.Python(t, "email")
	subjects := []string{
		"Plain ASCII subject",
		"Grüße aus Köln",
		"日本語のテキストと English mixed together in one rather long subject line that must fold",
		strings.Repeat("Ünïcödé ", 30),
		"looks like =?utf-8?q?an_encoded_word?= but is not",
	}
	for _, subj := range subjects {
		var h Header
		h.Add("From", "André Pirard <andre@example.com>")
		h.Add("To", `"Smith, Mary" <mary@example.net>, Zoë <zoe@example.net>, Team: ann@example.org;`)
		if strings.Contains(subj, "=?") {
			h.Add("Subject", EncodeText(subj)) // literal text, not encoded words
		} else {
			h.Add("Subject", subj)
		}
		h.Add("Date", FormatDate(time.Date(2003, 7, 1, 10, 52, 37, 0, time.FixedZone("", 7200))))
		h.Add("Message-ID", NewMessageID("example.com"))
		var out bytes.Buffer
		w, err := NewWriter(&out, &h, nil)
		require.NoError(t, err)
		io.WriteString(w, "Hello\n")
		require.NoError(t, w.Close())
		for _, line := range strings.Split(out.String(), "\r\n") {
			require.LessOrEqual(t, len(line), MaxLineLength)
			for _, c := range []byte(line) {
				require.Less(t, c, byte(0x80), "8-bit header without UTF8 option: %q", line)
			}
		}

		res, err := peer.RunErr(30*time.Second, out.Bytes(), py, "-c", pyParse)
		require.NoError(t, err, res)
		var got pyResult
		require.NoError(t, json.Unmarshal([]byte(res), &got), res)
		// Leading and trailing white space is not part of a value.
		assert.Equal(t, strings.TrimSpace(subj), got.Subject)
		require.Len(t, got.From, 1)
		assert.Equal(t, [2]string{"André Pirard", "andre@example.com"}, got.From[0].Mailboxes[0])
		require.Len(t, got.To, 3)
		assert.Equal(t, [2]string{"Smith, Mary", "mary@example.net"}, got.To[0].Mailboxes[0])
		assert.Equal(t, [2]string{"Zoë", "zoe@example.net"}, got.To[1].Mailboxes[0])
		require.NotNil(t, got.To[2].Group)
		assert.Equal(t, "Team", *got.To[2].Group)
		assert.Equal(t, "2003-07-01T10:52:37+02:00", got.Date)
		assert.Equal(t, "Hello\n", strings.ReplaceAll(got.Body, "\r\n", "\n"))
		assert.Empty(t, got.Defects)
	}
}

// TestInteropPythonWrites reads a message composed by Python's email package.
func TestInteropPythonWrites(t *testing.T) {
	py := peer.Python(t, "email")
	out, err := peer.RunErr(30*time.Second, nil, py, "-c", pyCompose)
	require.NoError(t, err, out)
	m, err := Read(strings.NewReader(out))
	require.NoError(t, err)
	h := &m.Header
	assert.Empty(t, h.Defects())
	subj, err := DecodeWords(h.Get("Subject"))
	require.NoError(t, err)
	assert.Equal(t, "Grüße aus Köln – a long subject line that certainly needs folding because it goes on and on, 日本語も", subj)
	from, err := ParseAddressList(h.Get("From"))
	require.NoError(t, err)
	assert.Equal(t, []*Address{mb("Jöran Øster", "joran@example.com")}, from)
	to, err := ParseAddressList(h.Get("To"))
	require.NoError(t, err)
	assert.Equal(t, []*Address{mb("Zoë Saldaña", "zoe@example.net"), grp("Team", mb("Ann", "ann@x.org"))}, to)
	cc, err := ParseAddressList(h.Get("Cc"))
	require.NoError(t, err)
	assert.Equal(t, []*Address{grp("undisclosed-recipients")}, cc)
	d, err := ParseDate(h.Get("Date"))
	require.NoError(t, err)
	assert.True(t, d.Equal(time.Date(2003, 7, 1, 8, 52, 37, 0, time.UTC)))
	id, err := ParseMessageID(h.Get("Message-ID"))
	require.NoError(t, err)
	assert.Equal(t, "abc.123@example.com", id)
	assert.Empty(t, Validate(h))
	body, err := io.ReadAll(m.Body)
	require.NoError(t, err)
	assert.Equal(t, "Hallo Welt\r\n", string(body))
}

package maildir_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailwire/mailwire/internal/peer"
	"github.com/mailwire/mailwire/message/maildir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fetchRecords runs doveadm fetch and splits its output into records of
// "field: value" lines (doveadm separates records with a form feed).
func fetchRecords(t *testing.T, d *peer.Dovecot, user, fields string, query ...string) []map[string]string {
	t.Helper()
	out := d.Doveadm(t, append([]string{"fetch", "-u", user, fields}, query...)...)
	var recs []map[string]string
	for _, chunk := range strings.Split(out, "\f") {
		chunk = strings.Trim(chunk, "\n")
		if chunk == "" {
			continue
		}
		rec := map[string]string{}
		var last string
		multi := false // inside a multi-line field such as text or body
		for _, line := range strings.Split(chunk, "\n") {
			if multi {
				rec[last] += line + "\n"
			} else if k, v, ok := strings.Cut(line, ": "); ok && !strings.ContainsAny(k, " \t") {
				if k == "flags" {
					// \Recent is session state, not a stored flag.
					v = strings.Join(slices.DeleteFunc(strings.Fields(v), func(f string) bool { return f == `\Recent` }), " ")
				}
				rec[k], last = v, k
			} else if k, ok := strings.CutSuffix(line, ":"); ok && !strings.ContainsAny(k, " \t") {
				rec[k], last = "", k
				multi = k == "text" || k == "body" || k == "hdr"
			} else if last != "" {
				rec[last] += "\n" + line
			}
		}
		recs = append(recs, rec)
	}
	return recs
}

// TestDovecotReadsOurMaildir writes a Maildir with this package and checks
// that Dovecot's IMAP server and doveadm see the messages, flags and folders.
func TestDovecotReadsOurMaildir(t *testing.T) {
	bodies := []string{
		"Subject: first\nFrom: a@example.test\n\nbody one\n",
		"Subject: second\nFrom: b@example.test\n\nbody two\n",
		"Subject: third\nFrom: c@example.test\n\nbody three\n",
	}
	dc := peer.StartDovecot(t, peer.DovecotOptions{
		Protocols: []string{"imap"},
		Prefill: func(user, dir string) error {
			d, err := maildir.Create(dir)
			if err != nil {
				return err
			}
			var keys []string
			for _, b := range bodies {
				k, err := d.Deliver(strings.NewReader(b))
				if err != nil {
					return err
				}
				keys = append(keys, k)
			}
			if err := d.SetFlags(keys[0], maildir.NewFlags(maildir.FlagSeen)); err != nil {
				return err
			}
			if err := d.SetFlags(keys[1], maildir.NewFlags(maildir.FlagSeen, maildir.FlagFlagged, maildir.FlagReplied)); err != nil {
				return err
			}
			sent, err := d.CreateFolder("Sent")
			if err != nil {
				return err
			}
			if _, err := sent.Append(strings.NewReader("Subject: draft\n\nx\n"), maildir.NewFlags(maildir.FlagDraft), time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)); err != nil {
				return err
			}
			_, err = d.CreateFolder("Archive/2024")
			return err
		},
	})

	recs := fetchRecords(t, dc, "user", "flags hdr.subject size.physical size.virtual text", "mailbox", "INBOX", "all")
	require.Len(t, recs, 3)
	for i, rec := range recs {
		// Dovecot takes the sizes from our S= and W= fields.
		assert.Equal(t, fmt.Sprint(len(bodies[i])), rec["size.physical"])
		assert.Equal(t, fmt.Sprint(len(bodies[i])+strings.Count(bodies[i], "\n")), rec["size.virtual"])
	}
	assert.Equal(t, `\Seen`, recs[0]["flags"])
	assert.Equal(t, "first", recs[0]["hdr.subject"])
	assert.ElementsMatch(t, []string{`\Answered`, `\Flagged`, `\Seen`}, strings.Fields(recs[1]["flags"]))
	assert.Equal(t, "second", recs[1]["hdr.subject"])
	assert.NotContains(t, recs[2]["flags"], `\Seen`)
	assert.Contains(t, recs[2]["text"], "body three")

	recs = fetchRecords(t, dc, "user", "flags hdr.subject date.received", "mailbox", "Sent", "all")
	require.Len(t, recs, 1)
	assert.Equal(t, `\Draft`, recs[0]["flags"])
	assert.Contains(t, recs[0]["date.received"], "2020-01-02")

	boxes := strings.Fields(dc.Doveadm(t, "mailbox", "list", "-u", "user"))
	assert.Subset(t, boxes, []string{"INBOX", "Sent", "Archive/2024"})

	// An IMAP session over TCP sees the same, with bodies byte for byte
	// (Dovecot sends CRLF on the wire for our LF-stored messages).
	c := dialIMAP(t, dc.IMAPPort)
	c.cmd("a1 LOGIN user pass", "a1 OK")
	c.cmd("a2 SELECT INBOX", "a2 OK")
	out := c.cmd("a3 FETCH 2 (FLAGS BODY.PEEK[])", "a3 OK")
	assert.Contains(t, out, `\Flagged`)
	assert.Contains(t, out, strings.ReplaceAll(bodies[1], "\n", "\r\n"))
	c.cmd("a4 LOGOUT", "a4 OK")
}

type imapConn struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dialIMAP(t *testing.T, port int) *imapConn {
	c, err := net.DialTimeout("tcp", peer.Addr(port), 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.SetDeadline(time.Now().Add(30*time.Second)))
	ic := &imapConn{t: t, c: c, r: bufio.NewReader(c)}
	line, err := ic.r.ReadString('\n')
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(line, "* OK"), line)
	return ic
}

// cmd sends a command and reads until the tagged line starting with want.
func (ic *imapConn) cmd(line, want string) string {
	ic.t.Helper()
	_, err := fmt.Fprintf(ic.c, "%s\r\n", line)
	require.NoError(ic.t, err)
	tag := strings.Fields(line)[0] + " "
	var all strings.Builder
	for {
		l, err := ic.r.ReadString('\n')
		require.NoError(ic.t, err, all.String())
		all.WriteString(l)
		if strings.HasPrefix(l, tag) {
			require.True(ic.t, strings.HasPrefix(l, want), "%s: %s", line, all.String())
			return all.String()
		}
	}
}

// TestWeReadDovecotMaildir has Dovecot's LMTP deliver into a Maildir and
// reads it with this package, keeping Dovecot's keywords when changing
// flags.
func TestWeReadDovecotMaildir(t *testing.T) {
	dc := peer.StartDovecot(t, peer.DovecotOptions{Protocols: []string{"lmtp", "imap"}})
	c, err := net.DialTimeout("tcp", peer.Addr(dc.LMTPPort), 5*time.Second)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(30*time.Second)))
	r := bufio.NewReader(c)
	expect := func(code string) {
		t.Helper()
		for {
			line, err := r.ReadString('\n')
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(line, code), "want %s, got %q", code, line)
			if len(line) < 4 || line[3] != '-' {
				return
			}
		}
	}
	send := func(s string) {
		_, err := io.WriteString(c, s)
		require.NoError(t, err)
	}
	expect("220")
	send("LHLO client.example.test\r\n")
	expect("250")
	for i := 1; i <= 2; i++ {
		send("MAIL FROM:<sender@example.test>\r\n")
		expect("250")
		send("RCPT TO:<user@example.test>\r\n")
		expect("250")
		send("DATA\r\n")
		expect("354")
		send(fmt.Sprintf("Subject: lmtp %d\r\nFrom: sender@example.test\r\n\r\nline one\r\n..dot-stuffed\r\n.\r\n", i))
		expect("250")
	}
	send("QUIT\r\n")
	expect("221")

	// Dovecot gives message 1 \Seen and a keyword, stored as a letter.
	dc.Doveadm(t, "flags", "add", "-u", "user", `\Seen $Label1`, "mailbox", "INBOX", "1")

	d, err := maildir.Open(dc.MailDir("user"))
	require.NoError(t, err)
	list, err := d.List()
	require.NoError(t, err)
	require.Len(t, list, 2)
	m1 := list[0]
	if !strings.Contains(readKey(t, d, m1.Key), "Subject: lmtp 1") {
		m1 = list[1]
	}
	assert.True(t, m1.Flags.Has(maildir.FlagSeen))
	require.Len(t, m1.Flags.Keywords(), 1, "Dovecot stores $Label1 as a lower-case letter: %q", m1.Flags)
	content := readKey(t, d, m1.Key)
	// Dovecot stores LF line ends and undoes the dot-stuffing; S= matches.
	assert.Contains(t, content, "Subject: lmtp 1\n")
	assert.Contains(t, content, "\n.dot-stuffed\n")
	assert.Equal(t, int64(len(content)), m1.Size)

	// Adding \Flagged from our side keeps the keyword Dovecot set.
	require.NoError(t, d.SetFlags(m1.Key, m1.Flags.With(maildir.FlagFlagged)))
	dc.Chown(t)
	recs := fetchRecords(t, dc, "user", "flags hdr.subject", "mailbox", "INBOX", "all")
	require.Len(t, recs, 2)
	var flags string
	for _, rec := range recs {
		if rec["hdr.subject"] == "lmtp 1" {
			flags = rec["flags"]
		}
	}
	assert.ElementsMatch(t, []string{`\Flagged`, `\Seen`, "$Label1"}, strings.Fields(flags))

	// Our UID list sits beside Dovecot's; neither touches the other.
	assert.FileExists(t, filepath.Join(d.Path(), "dovecot-uidlist"))
	assert.FileExists(t, filepath.Join(d.Path(), "mailwire-uidlist"))
	_, err = os.Stat(filepath.Join(d.Path(), "tmp"))
	require.NoError(t, err)
}

func readKey(t *testing.T, d *maildir.Dir, key string) string {
	t.Helper()
	f, err := d.Open(key)
	require.NoError(t, err)
	defer f.Close()
	b, err := io.ReadAll(f)
	require.NoError(t, err)
	return string(b)
}

// TestMblazeReadsOurMaildir: mblaze's mlist filters our messages by the
// flags in their names, and mflag's renames are read back here.
func TestMblazeReadsOurMaildir(t *testing.T) {
	mlist := peer.Path(t, "mlist")
	mflag := peer.Path(t, "mflag")
	d, err := maildir.Create(filepath.Join(t.TempDir(), "Maildir"))
	require.NoError(t, err)
	var keys []string
	for _, fl := range []maildir.Flags{"", "S", "FS", "RST"} {
		k, err := d.Deliver(strings.NewReader("Subject: x\n\ny\n"))
		require.NoError(t, err)
		if fl != "" {
			require.NoError(t, d.SetFlags(k, fl))
		}
		keys = append(keys, k)
	}
	count := func(args ...string) int {
		out := peer.Run(t, 30*time.Second, mlist, append(args, d.Path())...)
		return len(strings.Fields(out))
	}
	assert.Equal(t, 4, count())
	assert.Equal(t, 1, count("-N"))
	assert.Equal(t, 3, count("-S"))
	assert.Equal(t, 1, count("-F"))
	assert.Equal(t, 1, count("-T"))
	assert.Equal(t, 1, count("-s"))

	// mflag -F flags the message named by its path; we see the rename.
	list, err := d.List()
	require.NoError(t, err)
	peer.Run(t, 30*time.Second, mflag, "-F", filepath.Join(d.Path(), list[1].File))
	fl, err := d.Flags(keys[1])
	require.NoError(t, err)
	assert.Equal(t, maildir.Flags("FS"), fl)
	list2, err := d.List()
	require.NoError(t, err)
	assert.Equal(t, list[1].UID, list2[1].UID)
}

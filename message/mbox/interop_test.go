package mbox_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailwire/mailwire/internal/peer"
	"github.com/mailwire/mailwire/message/maildir"
	"github.com/mailwire/mailwire/message/mbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var date = time.Date(2026, 11, 4, 3, 4, 5, 0, time.UTC)

const pyRead = `
import json, mailbox, sys
out = []
for m in mailbox.mbox(sys.argv[1], create=False):
    out.append({"from": m.get_from(), "subject": m["Subject"], "payload": m.get_payload(), "flags": m.get_flags()})
print(json.dumps(out))
`

const pyWrite = `
import mailbox, sys, email.message
box = mailbox.mbox(sys.argv[1])
for i in range(3):
    m = mailbox.mboxMessage()
    m["Subject"] = "py %d" % i
    m.set_payload("From the start\n>From quoted\nline %d\n" % i)
    m.set_from("py@example.test", (2026, 11, 4, 3, 4, 5, 0, 0, 0))
    if i == 1:
        m.set_flags("RF")
    box.add(m)
box.flush()
box.close()
`

// TestPythonMailbox: Python's mailbox module, an independent mbox reader
// and writer, reads what we write and we read what it writes.
func TestPythonMailbox(t *testing.T) {
	py := peer.Python(t, "mailbox")
	path := filepath.Join(t.TempDir(), "ours.mbox")
	bodies := []string{
		"Subject: one\n\nFrom the first line\nhello\n",
		"Subject: two\nStatus: RO\nX-Status: F\n\nFrom a\n>From b\n\n\nFrom c\n",
		"Subject: three\n\nno final newline",
	}
	for _, b := range bodies {
		require.NoError(t, mbox.Append(path, "sender@example.test", date, strings.NewReader(b)))
	}
	out := peer.Run(t, 30*time.Second, py, "-c", pyRead, path)
	var got []struct {
		From, Subject, Payload, Flags string
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	require.Len(t, got, 3)
	assert.Equal(t, "sender@example.test Wed Nov  4 03:04:05 2026", got[0].From)
	assert.Equal(t, []string{"one", "two", "three"}, []string{got[0].Subject, got[1].Subject, got[2].Subject})
	// Python's reader does not unquote (it reads mboxo without unquoting),
	// so it shows our mboxrd quotes; the message boundaries are right.
	assert.Equal(t, ">From the first line\nhello\n", got[0].Payload)
	assert.Equal(t, ">From a\n>>From b\n\n\n>From c\n", got[1].Payload)
	assert.Equal(t, "no final newline\n", got[2].Payload)
	assert.Equal(t, "ROF", got[1].Flags)

	// And the other way: Python writes (mboxo), we read with Variant O.
	pyPath := filepath.Join(t.TempDir(), "py.mbox")
	peer.Run(t, 30*time.Second, py, "-c", pyWrite, pyPath)
	f, err := os.Open(pyPath)
	require.NoError(t, err)
	defer f.Close()
	r := mbox.NewReader(f)
	r.Variant = mbox.Mboxo
	for i := 0; i < 3; i++ {
		m, err := r.Next()
		require.NoError(t, err)
		assert.Equal(t, "py@example.test", m.Sender)
		assert.Equal(t, date, m.Date)
		b, err := io.ReadAll(m)
		require.NoError(t, err)
		assert.Contains(t, string(b), fmt.Sprintf("Subject: py %d\n", i))
		assert.True(t, strings.HasSuffix(string(b), fmt.Sprintf("\n\nFrom the start\nFrom quoted\nline %d\n", i)), "%q", b)
	}
	_, err = r.Next()
	assert.Equal(t, io.EOF, err)
}

// sumBody makes a body that names its own checksum.
func sumBody(tag string, i int) string {
	text := strings.Repeat(fmt.Sprintf("From line %s %d\n>From quoted\n", tag, i), 20)
	s := sha256.Sum256([]byte(text))
	return fmt.Sprintf("Subject: %s %d\nX-Sum: %s\n\n%s", tag, i, hex.EncodeToString(s[:]), text)
}

func checkSum(t *testing.T, content string) string {
	t.Helper()
	head, body, ok := strings.Cut(content, "\n\n")
	require.True(t, ok, content)
	var sum, subject string
	for _, l := range strings.Split(head, "\n") {
		if v, ok := strings.CutPrefix(l, "X-Sum: "); ok {
			sum = v
		}
		if v, ok := strings.CutPrefix(l, "Subject: "); ok {
			subject = v
		}
	}
	s := sha256.Sum256([]byte(body))
	u := sha256.Sum256([]byte(unquoteRD(body)))
	require.Contains(t, []string{hex.EncodeToString(s[:]), hex.EncodeToString(u[:])}, sum, "message %q damaged", subject)
	return subject
}

// TestDovecotMbox: Dovecot's mbox storage reads an mbox we wrote, and
// Dovecot's LMTP delivery and our Append write the same mbox at the same
// time under the shared dot-lock and fcntl locks without damaging each
// other's messages.
func TestDovecotMbox(t *testing.T) {
	var inbox string
	dc := peer.StartDovecot(t, peer.DovecotOptions{
		Protocols:    []string{"imap", "lmtp"},
		MailLocation: "mbox:{mail}/%n:INBOX={mail}/%n/inbox",
		Prefill: func(user, dir string) error {
			inbox = filepath.Join(dir, "inbox")
			for i := 0; i < 3; i++ {
				if err := mbox.Append(inbox, "sender@example.test", date, strings.NewReader(sumBody("pre", i))); err != nil {
					return err
				}
			}
			return nil
		},
	})
	recs := doveadmFetch(t, dc, "hdr.subject body", "mailbox", "INBOX", "all")
	require.Len(t, recs, 3)
	for i, rec := range recs {
		assert.Equal(t, fmt.Sprintf("pre %d", i), rec["hdr.subject"])
		// Dovecot unquotes neither; it shows the mboxrd quoting as stored.
		assert.Contains(t, rec["body"], ">From line pre")
	}

	const n = 10
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			assert.NoError(t, mbox.Append(inbox, "ours@example.test", time.Time{}, strings.NewReader(sumBody("ours", i))))
		}
	}()
	go func() {
		defer wg.Done()
		lmtpDeliver(t, dc.LMTPPort, n)
	}()
	wg.Wait()
	dc.Chown(t)

	// Both readers see every message intact.
	recs = doveadmFetch(t, dc, "hdr.subject", "mailbox", "INBOX", "all")
	var subjects []string
	for _, rec := range recs {
		subjects = append(subjects, rec["hdr.subject"])
	}
	f, err := os.Open(inbox)
	require.NoError(t, err)
	defer f.Close()
	// Dovecot writes messages with a Content-Length field and without
	// quoting "From " lines, so its mboxes need ContentLength; it also adds
	// Content-Length to the messages we appended when it syncs, and then
	// their mboxrd quoting is no longer removed.
	r := mbox.NewReader(f)
	r.ContentLength = true
	var ours []string
	for {
		m, err := r.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		b, err := io.ReadAll(m)
		require.NoError(t, err)
		ours = append(ours, checkSum(t, string(b)))
	}
	require.Len(t, ours, 3+2*n)
	slices.Sort(ours)
	slices.Sort(subjects)
	assert.Equal(t, ours, subjects)
}

// unquoteRD removes one '>' from lines matching ^>+From .
func unquoteRD(s string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if t := strings.TrimLeft(l, ">"); len(t) < len(l) && strings.HasPrefix(t, "From ") {
			lines[i] = l[1:]
		}
	}
	return strings.Join(lines, "")
}

func lmtpDeliver(t *testing.T, port, n int) {
	c, err := net.DialTimeout("tcp", peer.Addr(port), 5*time.Second)
	if !assert.NoError(t, err) {
		return
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	r := bufio.NewReader(c)
	expect := func(code string) bool {
		for {
			line, err := r.ReadString('\n')
			if !assert.NoError(t, err) || !assert.True(t, strings.HasPrefix(line, code), "want %s, got %q", code, line) {
				return false
			}
			if len(line) < 4 || line[3] != '-' {
				return true
			}
		}
	}
	send := func(s string) { io.WriteString(c, s) }
	if !expect("220") {
		return
	}
	send("LHLO client.example.test\r\n")
	expect("250")
	for i := 0; i < n; i++ {
		send("MAIL FROM:<lmtp@example.test>\r\nRCPT TO:<user@example.test>\r\nDATA\r\n")
		if !expect("250") || !expect("250") || !expect("354") {
			return
		}
		send(strings.ReplaceAll(sumBody("lmtp", i), "\n", "\r\n") + ".\r\n")
		if !expect("250") {
			return
		}
	}
	send("QUIT\r\n")
	expect("221")
}

func doveadmFetch(t *testing.T, dc *peer.Dovecot, fields string, query ...string) []map[string]string {
	t.Helper()
	out := dc.Doveadm(t, append([]string{"fetch", "-u", "user", fields}, query...)...)
	var recs []map[string]string
	for _, chunk := range strings.Split(out, "\f") {
		chunk = strings.Trim(chunk, "\n")
		if chunk == "" {
			continue
		}
		rec := map[string]string{}
		var last string
		multi := false
		for _, line := range strings.Split(chunk, "\n") {
			if multi {
				rec[last] += line + "\n"
			} else if k, v, ok := strings.Cut(line, ": "); ok && !strings.ContainsAny(k, " \t") {
				rec[k], last = v, k
			} else if k, ok := strings.CutSuffix(line, ":"); ok {
				rec[k], last, multi = "", k, true
			}
		}
		recs = append(recs, rec)
	}
	return recs
}

// TestMuttReads has mutt, a third independent mbox reader, open an mbox we
// wrote and pipe each message out. mutt is interactive, so it runs under
// script(1) for a terminal and is driven by a push command.
func TestMuttReads(t *testing.T) {
	mutt := peer.Path(t, "mutt")
	script := peer.Path(t, "script")
	dir := t.TempDir()
	path := filepath.Join(dir, "box")
	bodies := []string{
		"Subject: mutt 0\n\nFrom the start\n>From quoted\n",
		"Subject: mutt 1\n\n\n\nFrom after blank lines\n",
		"Subject: mutt 2\n\nlast, no newline",
	}
	require.NoError(t, mbox.WriteFile(path, func(w *mbox.Writer) error {
		for _, b := range bodies {
			if err := w.WriteMessage("sender@example.test", date, strings.NewReader(b)); err != nil {
				return err
			}
		}
		return nil
	}))
	out := filepath.Join(dir, "out")
	rc := filepath.Join(dir, "muttrc")
	// An existing $folder, or mutt's first-run question eats the keys.
	require.NoError(t, os.WriteFile(rc, []byte("set folder="+dir+"\nset pipe_split=yes\nset pipe_decode=no\nset wait_key=no\nset mbox_type=mbox\nset sort=mailbox-order\n"), 0o600))
	push := fmt.Sprintf(`push "<tag-pattern>~A<enter><tag-prefix><pipe-message>(cat; echo ==END==) >> %s<enter><quit>"`, out)
	cmdline := fmt.Sprintf("%s -n -F %s -R -f %s -e '%s'", mutt, rc, path, push)
	env := []string{"TERM=xterm", "HOME=" + dir}
	res, err := runEnv(env, script, "-q", "-c", cmdline, "/dev/null")
	require.NoError(t, err, res)
	b, err := os.ReadFile(out)
	require.NoError(t, err, "mutt wrote nothing: %s", res)
	parts := strings.Split(strings.TrimSuffix(string(b), "==END==\n"), "==END==\n")
	require.Len(t, parts, 3, string(b))
	for i, p := range parts {
		// mutt shows the separator line, the message as stored (it does
		// not undo mboxrd quoting) and a line end of its own (pipe_sep).
		assert.True(t, strings.HasPrefix(p, "From sender@example.test Wed Nov  4 03:04:05 2026\n"), p)
		assert.Contains(t, p, fmt.Sprintf("Subject: mutt %d\n", i))
	}
	assert.Contains(t, parts[0], "\n>From the start\n>>From quoted\n")
	assert.Contains(t, parts[1], "\n\n\n>From after blank lines\n")
	assert.Contains(t, parts[2], "last, no newline\n")
}

func runEnv(env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	// script(1) hangs up its terminal when its standard input ends, so
	// give it one that stays open until the program exits.
	stdin, keep, err := os.Pipe()
	if err != nil {
		return "", err
	}
	defer keep.Close()
	cmd.Stdin = stdin
	out, err := cmd.CombinedOutput()
	stdin.Close()
	return string(out), err
}

// TestMuttCopiesMaildirToMbox has mutt read a Maildir written by package
// maildir and copy its messages into an mbox, which we read back. mutt
// (like Dovecot) writes Content-Length fields and leaves "From " lines
// unquoted, so the reader needs ContentLength.
func TestMuttCopiesMaildirToMbox(t *testing.T) {
	mutt := peer.Path(t, "mutt")
	script := peer.Path(t, "script")
	dir := t.TempDir()
	src, err := maildir.Create(filepath.Join(dir, "Maildir"))
	require.NoError(t, err)
	bodies := map[string]string{
		"m1": "Subject: m1\n\nFrom line\n>From quoted\n\nFrom after blank\n",
		"m2": "Subject: m2\n\nseen body\n",
	}
	for _, subj := range []string{"m1", "m2"} {
		k, err := src.Deliver(strings.NewReader(bodies[subj]))
		require.NoError(t, err)
		if subj == "m2" {
			require.NoError(t, src.SetFlags(k, maildir.NewFlags(maildir.FlagSeen, maildir.FlagFlagged)))
		}
	}
	out := filepath.Join(dir, "out.mbox")
	rc := filepath.Join(dir, "muttrc")
	require.NoError(t, os.WriteFile(rc, []byte("set folder="+dir+"\nset confirmcreate=no\nset confirmappend=no\nset wait_key=no\nset mbox_type=mbox\nset sort=mailbox-order\n"), 0o600))
	push := fmt.Sprintf(`push "<tag-pattern>~A<enter><tag-prefix><copy-message>%s<enter><quit>"`, out)
	cmdline := fmt.Sprintf("%s -n -F %s -f %s -e '%s'", mutt, rc, src.Path(), push)
	res, err := runEnv([]string{"TERM=xterm", "HOME=" + dir}, script, "-q", "-c", cmdline, "/dev/null")
	require.NoError(t, err, res)

	f, err := os.Open(out)
	require.NoError(t, err, "mutt wrote no mbox: %s", res)
	defer f.Close()
	r := mbox.NewReader(f)
	r.ContentLength = true
	dst, err := maildir.Create(filepath.Join(dir, "Imported"))
	require.NoError(t, err)
	n, err := mbox.ToMaildir(dst, r)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	list, err := dst.List()
	require.NoError(t, err)
	for _, m := range list {
		rf, err := dst.Open(m.Key)
		require.NoError(t, err)
		b, err := io.ReadAll(rf)
		rf.Close()
		require.NoError(t, err)
		content := string(b)
		subj := "m1"
		if strings.Contains(content, "Subject: m2") {
			subj = "m2"
		}
		// mutt adds Status and Content-Length fields; the body is intact.
		_, wantBody, _ := strings.Cut(bodies[subj], "\n\n")
		_, gotBody, _ := strings.Cut(content, "\n\n")
		assert.Equal(t, wantBody, gotBody, subj)
		if subj == "m2" {
			assert.True(t, m.Flags.Has(maildir.FlagSeen), "Status: RO becomes Seen: %q", content)
		} else {
			assert.False(t, m.Flags.Has(maildir.FlagSeen))
		}
	}
}

var mblazeBodies = []string{
	"Subject: b0\n\nFrom the start\n>From one\n>>From two\n",
	"Subject: b1\n\n\n\nFrom after blank lines\n\n",
	"Subject: b2\n\nplain\n",
}

// TestMblazeMboxrd: mblaze's mdeliver -M decodes an mboxrd we wrote into a
// Maildir, and mexport encodes a Maildir we wrote as mboxrd, which we
// decode: both directions are byte-exact.
func TestMblazeMboxrd(t *testing.T) {
	mdeliver := peer.Path(t, "mdeliver")
	mexport := peer.Path(t, "mexport")
	dir := t.TempDir()

	var file strings.Builder
	w := mbox.NewWriter(&file)
	for _, b := range mblazeBodies {
		require.NoError(t, w.WriteMessage("sender@example.test", date, strings.NewReader(b)))
	}
	require.NoError(t, w.Flush())
	md, err := maildir.Create(filepath.Join(dir, "fromMbox"))
	require.NoError(t, err)
	res, err := peer.RunErr(30*time.Second, []byte(file.String()), mdeliver, "-M", md.Path())
	require.NoError(t, err, res)
	list, err := md.List()
	require.NoError(t, err)
	var got []string
	for _, m := range list {
		f, err := md.Open(m.Key)
		require.NoError(t, err)
		b, err := io.ReadAll(f)
		f.Close()
		require.NoError(t, err)
		got = append(got, string(b))
	}
	// mdeliver keeps the empty line that ends each message in an mbox as
	// part of the message (RFC 4155 Appendix A makes it the terminator;
	// Python's mailbox, mutt, Dovecot and this package drop it). Apart
	// from that, the mboxrd decoding is exact.
	var want []string
	for _, b := range mblazeBodies {
		want = append(want, b+"\n")
	}
	assert.ElementsMatch(t, want, got)

	// The other way: our Maildir, exported by mexport.
	src, err := maildir.Create(filepath.Join(dir, "src"))
	require.NoError(t, err)
	var paths []string
	for _, b := range mblazeBodies {
		k, err := src.Deliver(strings.NewReader(b))
		require.NoError(t, err)
		paths = append(paths, filepath.Join(src.Path(), "new", k))
	}
	out, err := runEnv([]string{"HOME=" + dir}, mexport, paths...)
	require.NoError(t, err, out)
	r := mbox.NewReader(strings.NewReader(out))
	var back []string
	for {
		m, err := r.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		b, err := io.ReadAll(m)
		require.NoError(t, err)
		// mexport adds a Status field; compare the rest.
		back = append(back, strings.Replace(string(b), "Status: O\n", "", 1))
	}
	require.Len(t, back, len(mblazeBodies))
	for i := range back {
		// mexport adds no empty line after a message that already ends
		// with one, so the reader takes that one as the terminator: a
		// trailing empty line is lost. Everything else is exact.
		if strings.HasSuffix(mblazeBodies[i], "\n\n") {
			assert.Equal(t, mblazeBodies[i][:len(mblazeBodies[i])-1], back[i])
		} else {
			assert.Equal(t, mblazeBodies[i], back[i])
		}
	}
}

package smtp

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailwire/mailwire/internal/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startPostfix runs a private Postfix instance and returns the address of
// its smtpd and its log file. transport is main.cf's line routing all mail
// (relayhost or default_transport). Postfix only runs an alternate
// configuration directory listed in the default instance's
// alternate_config_directories, so this needs root to add it to
// /etc/postfix/main.cf; without root the test is skipped.
func startPostfix(t *testing.T, name, transport string) (in, maillog string) {
	t.Helper()
	postfix := peer.Path(t, "postfix")
	if os.Geteuid() != 0 {
		t.Skip("a private Postfix instance needs root (to list its config directory in /etc/postfix/main.cf)")
	}
	if testing.Short() {
		t.Skip("starting Postfix is slow")
	}
	// Postfix's user must traverse the directories: not under t.TempDir (0700).
	base := "/tmp/mailwire-smtp-postfix-" + name
	etc := filepath.Join(base, "etc")
	exec.Command(postfix, "-c", etc, "stop").Run() // a leftover from an interrupted run
	require.NoError(t, os.RemoveAll(base))
	require.NoError(t, os.MkdirAll(etc, 0o755))
	require.NoError(t, os.Chmod(base, 0o755))
	require.NoError(t, allowPostfixConfigDir(etc))
	// postfix check creates the queue's subdirectories, not these two.
	require.NoError(t, os.MkdirAll(filepath.Join(base, "queue"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(base, "data"), 0o700))
	pu, err := user.Lookup("postfix")
	if err != nil {
		peer.Missing(t, "the postfix user")
	}
	uid, _ := strconv.Atoi(pu.Uid)
	require.NoError(t, os.Chown(filepath.Join(base, "data"), uid, -1))

	inPort := peer.FreePort(t)
	maillog = filepath.Join(base, "maillog")
	mainCF := fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/queue
data_directory = %[1]s/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = postfix.test
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
%[2]s
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtp_tls_security_level = may
lmtp_tls_security_level = none
smtputf8_enable = yes
maillog_file = %[1]s/maillog
maillog_file_prefixes = %[1]s
smtp_address_preference = ipv4
`, base, transport)
	masterCF := fmt.Sprintf("127.0.0.1:%d inet n - n - - smtpd\n", inPort) + `pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
lmtp      unix  - - n - - lmtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
`
	require.NoError(t, os.WriteFile(filepath.Join(etc, "main.cf"), []byte(mainCF), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(etc, "master.cf"), []byte(masterCF), 0o644))
	out, err := peer.RunErr(60*time.Second, nil, postfix, "-c", etc, "start")
	if err != nil {
		// Postfix reports a bad configuration to syslog; check shows it on
		// stderr only for a terminal.
		check, _ := peer.RunErr(30*time.Second, nil, "script", "-qc", postfix+" -c "+etc+" check", "/dev/null")
		log, _ := os.ReadFile(maillog)
		t.Fatalf("postfix start: %v\n%s\n%s\n%s", err, out, check, log)
	}
	t.Cleanup(func() {
		exec.Command(postfix, "-c", etc, "stop").Run()
		if t.Failed() {
			log, _ := os.ReadFile(maillog)
			t.Logf("Postfix log:\n%s", log)
		}
		os.RemoveAll(base)
	})
	in = peer.Addr(inPort)
	peer.WaitListening(t, in, 30*time.Second)
	return in, maillog
}

// TestInteropPostfixRelay runs a private Postfix instance whose relayhost is
// our Server, injects mail into it with swaks, and checks that Postfix's smtp
// client delivers it to us (over STARTTLS, with PIPELINING and its own
// choices of parameters).
func TestInteropPostfixRelay(t *testing.T) {
	t.Parallel()
	swaks := peer.Path(t, "swaks")
	rec, addr := interopServer(t, nil)
	in, _ := startPostfix(t, "relay", "relayhost = ["+strings.Replace(addr, ":", "]:", 1))

	msgFile := filepath.Join(t.TempDir(), "msg.eml")
	require.NoError(t, os.WriteFile(msgFile, []byte(testMessage("postfix")+"..two dots\r\n8-bit: caf\xc3\xa9\r\n"), 0o600))
	out, err := peer.RunErr(30*time.Second, nil, swaks, "--server", in, "--from", "alice@a.test",
		"--to", "bob@b.test,carol@c.test", "--data", "@"+msgFile)
	require.NoError(t, err, out)

	require.Eventually(t, func() bool { return len(rec.messages()) > 0 }, 60*time.Second, 50*time.Millisecond,
		"Postfix did not relay the message to us")
	msgs := rec.messages()
	require.Len(t, msgs, 1)
	m := msgs[0]
	assert.Equal(t, Mailbox{"alice", "a.test"}, m.From)
	assert.ElementsMatch(t, []Mailbox{{"bob", "b.test"}, {"carol", "c.test"}}, m.Rcpts)
	assert.Equal(t, "postfix.test", m.Helo)
	assert.True(t, m.TLS, "Postfix uses STARTTLS when offered (smtp_tls_security_level=may)")
	assert.Contains(t, m.Data, "Received: from ")
	assert.Contains(t, m.Data, "by postfix.test (Postfix)")
	assert.Contains(t, m.Data, "Subject: postfix\r\n")
	assert.Contains(t, m.Data, "\r\n.leading dot\r\n")
	assert.Contains(t, m.Data, "\r\n..two dots\r\n")
	assert.Contains(t, m.Data, "caf\xc3\xa9")
}

// TestInteropPostfixLMTP has Postfix's lmtp delivery agent deliver to our
// LMTP server, which refuses one recipient after DATA (RFC 2033 §4.2): Postfix
// must defer that one and count the others as delivered.
func TestInteropPostfixLMTP(t *testing.T) {
	t.Parallel()
	swaks := peer.Path(t, "swaks")
	rec := &recorder{lmtp: map[string]error{"full": ErrMailboxFull}}
	_, _, addr := newTestServerWith(t, rec, func(s *Server) { s.LMTP = true })
	in, maillog := startPostfix(t, "lmtp", "default_transport = lmtp:inet:"+addr)

	out, err := peer.RunErr(30*time.Second, nil, swaks, "--server", in, "--from", "alice@a.test",
		"--to", "bob@b.test,full@b.test,carol@c.test", "--header", "Subject: lmtp")
	require.NoError(t, err, out)
	require.Eventually(t, func() bool {
		log, _ := os.ReadFile(maillog)
		return strings.Count(string(log), "status=") >= 3
	}, 60*time.Second, 50*time.Millisecond, "Postfix did not deliver over LMTP")
	log, _ := os.ReadFile(maillog)
	assert.Regexp(t, `to=<bob@b.test>, relay=127.0.0.1\[127.0.0.1\]:\d+, .*status=sent`, string(log))
	assert.Regexp(t, `to=<carol@c.test>, relay=127.0.0.1\[127.0.0.1\]:\d+, .*status=sent`, string(log))
	assert.Regexp(t, `to=<full@b.test>, relay=127.0.0.1\[127.0.0.1\]:\d+, .*status=deferred \(host 127.0.0.1\[127.0.0.1\] said: 452 4.2.2`, string(log))
	msgs := rec.messages()
	require.Len(t, msgs, 1)
	assert.Equal(t, "postfix.test", msgs[0].Helo)
	assert.Contains(t, msgs[0].Data, "Subject: lmtp\r\n")
}

// postfixMainCF serialises this package's edits of /etc/postfix/main.cf.
var postfixMainCF sync.Mutex

// allowPostfixConfigDir adds dir to alternate_config_directories in the
// default instance's /etc/postfix/main.cf, creating the file if needed and
// keeping every other line. It replaces the file atomically.
func allowPostfixConfigDir(dir string) error {
	const path = "/etc/postfix/main.cf"
	postfixMainCF.Lock()
	defer postfixMainCF.Unlock()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(b) == 0 {
		lines = nil
	}
	found := false
	for i, l := range lines {
		name, value, ok := strings.Cut(l, "=")
		if !ok || strings.TrimSpace(name) != "alternate_config_directories" {
			continue
		}
		found = true
		for _, d := range strings.FieldsFunc(value, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
			if d == dir {
				return nil
			}
		}
		if strings.TrimSpace(value) == "" {
			lines[i] = "alternate_config_directories = " + dir
		} else {
			lines[i] = strings.TrimRight(l, " \t") + ", " + dir
		}
	}
	if !found {
		lines = append(lines, "alternate_config_directories = "+dir)
	}
	tmp := path + ".mailwire-tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

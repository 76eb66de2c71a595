package smtp

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailwire/mailwire/internal/peer"
	"github.com/stretchr/testify/require"
)

// StartTestPostfix runs a private Postfix (master and its daemons) whose
// smtpd listens on a free 127.0.0.1 port, and returns that address and the
// instance's directory, which holds its log in "maillog". extraMainCF is
// appended to main.cf: the routing (relayhost or default_transport),
// restrictions, TLS files. The test is skipped (failed under
// MAILWIRE_REQUIRE_PEERS=1) without Postfix or without root, which Postfix
// needs; the instance is stopped at cleanup.
//
// It creates the queue directories itself (as /etc/postfix/postfix-files
// lists them; "postfix check" takes seconds) and runs master in the
// foreground with the environment postfix(1) would set: unlike "postfix -c
// DIR start", this needs no edit of the default instance's
// alternate_config_directories in /etc/postfix/main.cf, and the instance dies
// with the test. It is exported for the smtp_test package's tests only.
func StartTestPostfix(t *testing.T, extraMainCF string) (addr, dir string) {
	t.Helper()
	master := "/usr/lib/postfix/sbin/master"
	if _, err := os.Stat(master); err != nil {
		peer.Missing(t, master)
	}
	if os.Geteuid() != 0 {
		peer.Missing(t, "root privileges for postfix")
	}
	// Postfix's user must traverse the directories: not under t.TempDir (0700).
	dir, err := os.MkdirTemp("", "mailwire-postfix-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	conf, queue, data := filepath.Join(dir, "conf"), filepath.Join(dir, "queue"), filepath.Join(dir, "data")
	for _, d := range []string{conf, queue, data} {
		require.NoError(t, os.MkdirAll(d, 0o755))
	}
	addr = peer.Addr(peer.FreePort(t))
	mainCF := fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s
data_directory = %[2]s
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = postfix.test
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtputf8_enable = yes
smtp_address_preference = ipv4
maillog_file = %[3]s/maillog
maillog_file_prefixes = %[3]s
`, queue, data, dir) + extraMainCF + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(conf, "main.cf"), []byte(mainCF), 0o644))
	masterCF := addr + ` inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
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
	require.NoError(t, os.WriteFile(filepath.Join(conf, "master.cf"), []byte(masterCF), 0o644))

	// postfix(1) insists that a private configuration be listed in the
	// default one; postfix-script and master, given the environment
	// postfix(1) would set, do not.
	env := append(os.Environ(),
		"MAIL_CONFIG="+conf, "config_directory="+conf, "command_directory=/usr/sbin",
		"daemon_directory=/usr/lib/postfix/sbin", "data_directory="+data, "queue_directory="+queue,
		"mail_owner=postfix", "setgid_group=postdrop", "sendmail_path=/usr/sbin/sendmail",
		"newaliases_path=/usr/bin/newaliases", "mailq_path=/usr/bin/mailq", "manpage_directory=/usr/share/man",
		"sample_directory=/usr/share/doc/postfix/examples", "readme_directory=no", "html_directory=no",
		"meta_directory=/etc/postfix", "shlib_directory=/usr/lib/postfix")
	createPostfixQueue(t, queue, data)
	cmd := exec.Command(master, "-c", conf, "-d")
	cmd.Env = env
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		// SIGTERM makes master stop its children too.
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "maillog"))
			t.Logf("postfix master output:\n%s\nmaillog:\n%s", out.String(), log)
		}
	})
	peer.WaitListening(t, addr, 15*time.Second)
	return addr, dir
}

// createPostfixQueue makes the queue and data directories with the owners
// and modes of /etc/postfix/postfix-files.
func createPostfixQueue(t *testing.T, queue, data string) {
	t.Helper()
	pu, err := user.Lookup("postfix")
	if err != nil {
		peer.Missing(t, "user postfix")
	}
	gr, err := user.LookupGroup("postdrop")
	if err != nil {
		peer.Missing(t, "group postdrop")
	}
	uid, _ := strconv.Atoi(pu.Uid)
	gid, _ := strconv.Atoi(gr.Gid)
	for _, d := range []struct {
		name     string
		uid, gid int
		mode     os.FileMode
	}{
		{"active", uid, -1, 0o700}, {"bounce", uid, -1, 0o700}, {"corrupt", uid, -1, 0o700},
		{"defer", uid, -1, 0o700}, {"deferred", uid, -1, 0o700}, {"flush", uid, -1, 0o700},
		{"hold", uid, -1, 0o700}, {"incoming", uid, -1, 0o700}, {"private", uid, -1, 0o700},
		{"maildrop", uid, gid, 0o730}, {"public", uid, gid, 0o710}, {"pid", 0, -1, 0o755},
		{"saved", uid, -1, 0o700}, {"trace", uid, -1, 0o700},
	} {
		p := filepath.Join(queue, d.name)
		require.NoError(t, os.MkdirAll(p, 0o700))
		require.NoError(t, os.Chown(p, d.uid, d.gid))
		require.NoError(t, os.Chmod(p, d.mode))
	}
	require.NoError(t, os.Chown(data, uid, -1))
	require.NoError(t, os.Chmod(data, 0o700))
}

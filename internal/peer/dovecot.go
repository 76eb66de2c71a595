package peer

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailwire/mailwire/internal/selfsigned"
)

// DovecotOptions configures a private Dovecot instance started by StartDovecot.
// The zero value starts IMAP, POP3 and LMTP without TLS for one user "user"
// with password "pass".
type DovecotOptions struct {
	// Protocols lists the protocols to serve: any of "imap", "pop3", "lmtp".
	// Empty means all three.
	Protocols []string

	// Users maps user names (without domain) to plaintext passwords. Empty
	// means {"user": "pass"}. Dovecot strips any @domain from the login name
	// and the LMTP recipient (auth_username_format = %n), so "bob" receives
	// RCPT TO:<bob@example.test>.
	Users map[string]string

	// TLS enables ssl = yes with a fresh self-signed certificate from TLS,
	// STARTTLS/STLS on the plain listeners, and implicit-TLS listeners for
	// IMAPS and POP3S. The client side is in Dovecot.TLS.
	TLS bool

	// RequireTLS sets disable_plaintext_auth = yes and ssl = required. Note
	// that Dovecot treats 127.0.0.1 as secure and still allows plaintext
	// authentication from loopback unless the connection is from elsewhere.
	RequireTLS bool

	// MailLocation overrides Dovecot's mail_location. "{mail}" in it is
	// replaced by the mail root (Dovecot.MailRoot). Empty means
	// "maildir:{mail}/%n", so each user's Maildir is Dovecot.MailDir(user).
	MailLocation string

	// Prefill, when set, is called for each user with the user's mail
	// directory before Dovecot starts, so a test can write messages there.
	// The tree is chowned to vmail afterwards.
	Prefill func(user, dir string) error

	// AuthMechanisms overrides auth_mechanisms (space separated). Empty means
	// "plain login cram-md5 scram-sha-1 scram-sha-256".
	AuthMechanisms string

	// Extra is appended verbatim to the generated configuration.
	Extra string
}

// Dovecot is a running private Dovecot instance. Ports are zero for protocols
// that were not requested.
type Dovecot struct {
	Dir       string // private base directory (world-traversable)
	Config    string // path of dovecot.conf, for doveadm -c
	Log       string // path of the Dovecot log file
	MailRoot  string // root directory of all users' mail
	IMAPPort  int
	POP3Port  int
	LMTPPort  int
	IMAPSPort int // implicit TLS, only with TLS
	POP3SPort int // implicit TLS, only with TLS

	// TLS is the self-signed pair the server uses, when TLS was requested;
	// TLS.Client trusts it. CAFile is its certificate as a file.
	TLS    *selfsigned.Pair
	CAFile string

	Users map[string]string

	doveadm string
	asRoot  bool // mail processes run as vmail, not as the current user
	proc    *Process
}

// MailDir returns the directory that holds user's mail (the Maildir root
// with the default MailLocation).
func (d *Dovecot) MailDir(user string) string { return filepath.Join(d.MailRoot, user) }

// Chown gives the whole mail root to vmail again, after a test wrote files
// into a user's mail directory while Dovecot runs.
func (d *Dovecot) Chown(t testing.TB) {
	t.Helper()
	if !d.asRoot {
		return // everything runs as the current user
	}
	if err := chownVmail(d.MailRoot); err != nil {
		t.Fatal(err)
	}
}

// Doveadm runs doveadm against this instance ("doveadm -c CONFIG args...") and
// returns its output; it fails the test when doveadm fails.
func (d *Dovecot) Doveadm(t testing.TB, args ...string) string {
	t.Helper()
	return Run(t, 30*time.Second, d.doveadm, append([]string{"-c", d.Config}, args...)...)
}

// LogText returns the current content of the Dovecot log.
func (d *Dovecot) LogText() string {
	b, _ := os.ReadFile(d.Log)
	return string(b)
}

// StartDovecot writes a private configuration, starts Dovecot in the
// foreground with it, waits until it listens on every port and registers a
// cleanup that stops it (and dumps its log when the test failed). A port
// taken by another process before Dovecot binds it makes StartDovecot start
// again on new ports, as StartServer does.
// Run as root, Dovecot runs mail processes as the vmail user, which must
// exist (otherwise the test is skipped, or fails under
// MAILWIRE_REQUIRE_PEERS=1); run as another user, every Dovecot process runs
// as that user.
func StartDovecot(t testing.TB, opts DovecotOptions) *Dovecot {
	t.Helper()
	bin := Path(t, "dovecot")
	doveadm := Path(t, "doveadm")
	// As root, mail processes run as vmail (Dovecot refuses root for
	// them). Otherwise, as in CI runners that use sudo only to install,
	// every Dovecot process runs as the current user.
	asRoot := os.Geteuid() == 0
	var self *user.User
	if asRoot {
		if _, err := user.Lookup("vmail"); err != nil {
			Missing(t, "user vmail (useradd -r -M vmail)")
		}
	} else {
		u, err := user.Current()
		if err != nil {
			t.Fatalf("StartDovecot: current user: %v", err)
		}
		self = u
	}

	// A short private directory outside t.TempDir(): Dovecot's unix sockets
	// live under base_dir and must fit in sun_path (108 bytes), and the
	// unprivileged login and mail processes must be able to traverse it.
	dir, err := os.MkdirTemp("", "dovecot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}

	d := &Dovecot{
		Dir:      dir,
		Config:   filepath.Join(dir, "dovecot.conf"),
		Log:      filepath.Join(dir, "dovecot.log"),
		MailRoot: filepath.Join(dir, "mail"),
		Users:    opts.Users,
		doveadm:  doveadm,
		asRoot:   asRoot,
	}
	if len(d.Users) == 0 {
		d.Users = map[string]string{"user": "pass"}
	}
	protos := opts.Protocols
	if len(protos) == 0 {
		protos = []string{"imap", "pop3", "lmtp"}
	}
	has := map[string]bool{}
	for _, p := range protos {
		switch p {
		case "imap", "pop3", "lmtp":
			has[p] = true
		default:
			t.Fatalf("StartDovecot: unknown protocol %q", p)
		}
	}

	names := make([]string, 0, len(d.Users))
	for u := range d.Users {
		names = append(names, u)
	}
	sort.Strings(names)
	var users bytes.Buffer
	for _, u := range names {
		if strings.ContainsAny(u, ":\n/") || strings.ContainsAny(d.Users[u], "\n") {
			t.Fatalf("StartDovecot: bad user or password %q", u)
		}
		fmt.Fprintf(&users, "%s:{PLAIN}%s\n", u, d.Users[u])
	}
	if err := os.WriteFile(filepath.Join(dir, "users"), users.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"run", "state", "mail"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range names {
		md := d.MailDir(u)
		if err := os.MkdirAll(md, 0o700); err != nil {
			t.Fatal(err)
		}
		if opts.Prefill != nil {
			if err := opts.Prefill(u, md); err != nil {
				t.Fatalf("StartDovecot: prefill %s: %v", u, err)
			}
		}
	}
	if asRoot {
		if err := chownVmail(d.MailRoot); err != nil {
			t.Fatal(err)
		}
	}

	var conf bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&conf, format+"\n", args...) }
	w("base_dir = %s/run", dir)
	w("state_dir = %s/state", dir)
	w("log_path = %s", d.Log)
	w("instance_name = mailwire-%s", filepath.Base(dir))
	w("protocols = %s", strings.Join(protos, " "))
	w("listen = 127.0.0.1")
	mechs := opts.AuthMechanisms
	if mechs == "" {
		mechs = "plain login cram-md5 scram-sha-1 scram-sha-256"
	}
	w("auth_mechanisms = %s", mechs)
	w("auth_username_format = %%n")
	if opts.RequireTLS {
		w("disable_plaintext_auth = yes")
	} else {
		w("disable_plaintext_auth = no")
	}
	if opts.TLS || opts.RequireTLS {
		pair, ca := TLS(t)
		d.TLS, d.CAFile = pair, ca
		cert := filepath.Join(dir, "cert.pem")
		key := filepath.Join(dir, "key.pem")
		if err := os.WriteFile(cert, pair.CertPEM, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(key, pair.KeyPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		if opts.RequireTLS {
			w("ssl = required")
		} else {
			w("ssl = yes")
		}
		w("ssl_cert = <%s", cert)
		w("ssl_key = <%s", key)
		w("ssl_min_protocol = TLSv1.2")
	} else {
		w("ssl = no")
	}
	loc := opts.MailLocation
	if loc == "" {
		loc = "maildir:{mail}/%n"
	}
	w("mail_location = %s", strings.ReplaceAll(loc, "{mail}", d.MailRoot))
	mailUser, mailGroup := "vmail", "vmail"
	if !asRoot {
		mailUser, mailGroup = self.Uid, self.Gid
		w("default_internal_user = %s", self.Username)
		w("default_login_user = %s", self.Username)
		if g, err := user.LookupGroupId(self.Gid); err == nil {
			w("default_internal_group = %s", g.Name)
		}
		w("first_valid_uid = 0")
		w("first_valid_gid = 0")
	} else {
		w("first_valid_uid = 100")
	}
	w("mail_uid = %s", mailUser)
	w("mail_gid = %s", mailGroup)
	w("passdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%%n %s/users\n}", dir)
	w("userdb {\n  driver = static\n  args = uid=%s gid=%s home=%s/%%n\n}", mailUser, mailGroup, d.MailRoot)

	tls := opts.TLS || opts.RequireTLS
	common := conf.String()
	// The listeners come last, on ports that StartServer picks for each
	// attempt: one of them may be taken before Dovecot binds it.
	n := 0
	for _, p := range []string{"imap", "pop3"} {
		if has[p] {
			n++
			if tls {
				n++
			}
		}
	}
	if has["lmtp"] {
		n++
	}
	var config string
	command := func(ports []int) *exec.Cmd {
		conf.Reset()
		conf.WriteString(common)
		listener := func(name string, port int, ssl bool) {
			if port == 0 {
				w("  inet_listener %s {\n    port = 0\n  }", name)
				return
			}
			w("  inet_listener %s {\n    address = 127.0.0.1\n    port = %d", name, port)
			if ssl {
				w("    ssl = yes")
			}
			w("  }")
		}
		next := func() int { p := ports[0]; ports = ports[1:]; return p }
		d.IMAPPort, d.IMAPSPort, d.POP3Port, d.POP3SPort, d.LMTPPort = 0, 0, 0, 0, 0
		if has["imap"] {
			d.IMAPPort = next()
			if tls {
				d.IMAPSPort = next()
			}
			w("service imap-login {\n  chroot =")
			listener("imap", d.IMAPPort, false)
			listener("imaps", d.IMAPSPort, true)
			w("}")
		}
		if has["pop3"] {
			d.POP3Port = next()
			if tls {
				d.POP3SPort = next()
			}
			w("service pop3-login {\n  chroot =")
			listener("pop3", d.POP3Port, false)
			listener("pop3s", d.POP3SPort, true)
			w("}")
		}
		if has["lmtp"] {
			d.LMTPPort = next()
			w("service lmtp {\n  inet_listener lmtp {\n    address = 127.0.0.1\n    port = %d\n  }\n}", d.LMTPPort)
		}
		w("service anvil {\n  chroot =\n}")
		w("namespace inbox {\n  inbox = yes\n  separator = /\n}")
		if opts.Extra != "" {
			w("%s", opts.Extra)
		}
		config = conf.String()
		if err := os.WriteFile(d.Config, conf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		// A failed attempt leaves its fatal error for the next start to
		// report; it is in the log already.
		os.Remove(filepath.Join(dir, "run", "master-fatal.lastlog"))
		// -F keeps the master in the foreground, so the test owns the process.
		return exec.Command(bin, "-F", "-c", d.Config)
	}
	// The master binds every listener before it starts any service, and
	// exits when one bind fails.
	p, _, err := startServer(t, ServerOptions{Ports: n}, command)
	if err != nil {
		t.Fatalf("dovecot: %v\nlog:\n%s\nconfig:\n%s", err, d.LogText(), config)
	}
	d.proc = p
	t.Cleanup(func() {
		d.stop()
		if t.Failed() {
			t.Logf("dovecot log (%s):\n%s", d.Log, d.LogText())
		}
	})
	return d
}

// stop asks Dovecot to stop and waits for the master to exit, killing it
// after a grace period.
func (d *Dovecot) stop() {
	_, _ = RunErr(10*time.Second, nil, d.doveadm, "-c", d.Config, "stop")
	select {
	case <-d.proc.Exited():
	case <-time.After(10 * time.Second):
		d.proc.Kill()
	}
}

// chownVmail gives the tree at root to the vmail user and group.
func chownVmail(root string) error {
	u, err := user.Lookup("vmail")
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

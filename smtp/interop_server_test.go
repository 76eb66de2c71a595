package smtp

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/internal/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Interoperability: real SMTP clients nobody here wrote deliver to our Server.

// interopServer starts a server with STARTTLS and AUTH (user "user",
// password "secret") on loopback.
func interopServer(t *testing.T, mod func(*Server)) (*recorder, string) {
	t.Helper()
	users := auth.NewMemoryStore()
	require.NoError(t, users.SetPassword("user", "secret"))
	_, rec, addr := newTestServerWith(t, &recorder{users: users}, func(s *Server) {
		s.TLSConfig = mustPair(t).Server
		if mod != nil {
			mod(s)
		}
	})
	return rec, addr
}

func testMessage(subject string) string {
	return "From: <alice@a.test>\r\nTo: <bob@b.test>\r\nSubject: " + subject +
		"\r\nMessage-ID: <" + subject + "@a.test>\r\n\r\nHello Bob.\r\n.leading dot\r\n"
}

func TestInteropSwaks(t *testing.T) {
	t.Parallel()
	swaks := peer.Path(t, "swaks")
	for _, tc := range []struct {
		name     string
		args     []string
		identity string
		tls      bool
	}{
		{"plain", nil, "", false},
		{"pipeline", []string{"--pipeline"}, "", false},
		{"starttls", []string{"--tls"}, "", true},
		{"starttls auth plain", []string{"--tls", "--auth", "PLAIN", "--auth-user", "user", "--auth-password", "secret"}, "user", true},
		{"starttls auth login pipeline", []string{"--tls", "--pipeline", "--auth", "LOGIN", "--auth-user", "user", "--auth-password", "secret"}, "user", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec, addr := interopServer(t, nil)
			dir := t.TempDir()
			msgFile := filepath.Join(dir, "msg.eml")
			require.NoError(t, os.WriteFile(msgFile, []byte(testMessage("swaks")), 0o600))
			args := append([]string{"--server", addr, "--from", "alice@a.test", "--to", "bob@b.test,carol@b.test",
				"--helo", "swaks.test", "--data", "@" + msgFile}, tc.args...)
			out, err := peer.RunErr(30*time.Second, nil, swaks, args...)
			require.NoError(t, err, out)
			msgs := rec.messages()
			require.Len(t, msgs, 1, out)
			m := msgs[0]
			assert.Equal(t, Mailbox{"alice", "a.test"}, m.From)
			assert.Equal(t, []Mailbox{{"bob", "b.test"}, {"carol", "b.test"}}, m.Rcpts)
			assert.Contains(t, m.Data, "Subject: swaks\r\n")
			assert.Contains(t, m.Data, "\r\n.leading dot\r\n")
			assert.Equal(t, tc.identity, m.Identity)
			assert.Equal(t, tc.tls, m.TLS)
			assert.Equal(t, "swaks.test", m.Helo)
		})
	}
	t.Run("bad password", func(t *testing.T) {
		t.Parallel()
		rec, addr := interopServer(t, nil)
		out, err := peer.RunErr(30*time.Second, nil, swaks, "--server", addr, "--from", "a@a.test", "--to", "b@b.test",
			"--tls", "--auth", "PLAIN", "--auth-user", "user", "--auth-password", "wrong")
		require.Error(t, err)
		assert.Contains(t, out, "535 5.7.8")
		assert.Empty(t, rec.messages())
	})
}

const pythonClient = `
import smtplib, ssl, sys
from email.message import EmailMessage
host, port, mode = sys.argv[1], int(sys.argv[2] or 0), sys.argv[3]
msg = EmailMessage()
msg["From"] = "alice@a.test"
msg["To"] = "bob@b.test"
msg["Subject"] = "python " + mode
msg.set_content("Hello from smtplib.\n.leading dot\n")
if mode == "lmtp":
    # A host starting with "/" is a unix socket path.
    s = smtplib.LMTP(host, port, local_hostname="py.test")
    refused = s.sendmail("alice@a.test", ["bob@b.test", "full@b.test", "carol@b.test"],
        msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")))  # sendmail sends bytes as they are
    print("refused", sorted(refused))
    s.quit()
    sys.exit(0)
if mode == "implicit":
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = smtplib.SMTP_SSL(host, port, local_hostname="py.test", context=ctx)
else:
    s = smtplib.SMTP(host, port, local_hostname="py.test")
s.ehlo()
assert s.has_extn("pipelining") and s.has_extn("chunking") and s.has_extn("smtputf8")
if mode in ("starttls", "login"):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s.starttls(context=ctx)
    s.ehlo()
if mode in ("login", "implicit"):
    s.login("user", "secret")
if mode == "utf8":
    msg.replace_header("To", "用户@例子.test")
    s.send_message(msg, from_addr="alice@a.test", to_addrs=["用户@例子.test"], mail_options=["SMTPUTF8"])
else:
    s.send_message(msg)
s.quit()
print("ok")
`

func TestInteropPython(t *testing.T) {
	t.Parallel()
	py := peer.Python(t, "smtplib", "ssl")
	for _, mode := range []string{"plain", "starttls", "login", "utf8", "implicit"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			var rec *recorder
			var addr string
			if mode == "implicit" {
				rec, addr = implicitTLSServer(t)
			} else {
				rec, addr = interopServer(t, nil)
			}
			host, port, _ := net.SplitHostPort(addr)
			out, err := peer.RunErr(30*time.Second, nil, py, "-c", pythonClient, host, port, mode)
			require.NoError(t, err, out)
			msgs := rec.messages()
			require.Len(t, msgs, 1, out)
			m := msgs[0]
			assert.Equal(t, Mailbox{"alice", "a.test"}, m.From)
			assert.Contains(t, m.Data, "Subject: python "+mode+"\r\n")
			assert.Contains(t, m.Data, "\r\n.leading dot\r\n")
			assert.Equal(t, mode != "plain" && mode != "utf8", m.TLS)
			if mode == "login" || mode == "implicit" {
				assert.Equal(t, "user", m.Identity)
			}
			if mode == "utf8" {
				assert.True(t, m.MailOpts.UTF8)
				assert.Equal(t, []Mailbox{{"用户", "例子.test"}}, m.Rcpts)
			} else {
				assert.Equal(t, []Mailbox{{"bob", "b.test"}}, m.Rcpts)
			}
		})
	}
}

func TestInteropPythonLMTP(t *testing.T) {
	t.Parallel()
	py := peer.Python(t, "smtplib")
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			rec := &recorder{lmtp: map[string]error{"full": ErrMailboxFull}}
			var host, port string
			if network == "tcp" {
				_, _, addr := newTestServerWith(t, rec, func(s *Server) { s.LMTP = true })
				host, port, _ = net.SplitHostPort(addr)
			} else {
				// LMTP is usually spoken over a unix socket (RFC 2033 §5).
				host = filepath.Join(t.TempDir(), "lmtp.sock")
				l, err := net.Listen("unix", host)
				require.NoError(t, err)
				srv := &Server{Backend: rec, LMTP: true}
				done := make(chan error, 1)
				go func() { done <- srv.Serve(l) }()
				t.Cleanup(func() {
					srv.Close()
					assert.ErrorIs(t, <-done, ErrServerClosed)
				})
			}
			out, err := peer.RunErr(30*time.Second, nil, py, "-c", pythonClient, host, port, "lmtp")
			require.NoError(t, err, out)
			// smtplib.LMTP reads only the first of the per-recipient replies
			// after DATA (it has no LMTP-specific sendmail), so it cannot see
			// the refusal of full@b.test; TestServerLMTP checks those replies.
			assert.Contains(t, out, "refused []")
			msgs := rec.messages()
			require.Len(t, msgs, 1)
			assert.Len(t, msgs[0].Rcpts, 3)
			assert.Equal(t, "py.test", msgs[0].Helo)
		})
	}
}

func TestInteropCurl(t *testing.T) {
	t.Parallel()
	curl := peer.Path(t, "curl")
	for _, tc := range []struct {
		name   string
		args   []string
		lf     bool // send the file with LF line ends, as curl does without --crlf
		policy BareNewlinePolicy
		tls    bool
		id     string
		fail   string
	}{
		{name: "plain"},
		{name: "starttls", args: []string{"--ssl-reqd", "-k"}, tls: true},
		{name: "starttls auth", args: []string{"--ssl-reqd", "-k", "-u", "user:secret"}, tls: true, id: "user"},
		{name: "crlf option", args: []string{"--crlf"}, lf: true},
		// curl sends an LF file as it is: bare LFs, refused by default...
		{name: "bare LF refused", lf: true, fail: "554 5.6.0"},
		// ...and accepted when the server normalises them.
		{name: "bare LF normalized", lf: true, policy: BareNewlineNormalize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec, addr := interopServer(t, func(s *Server) { s.BareNewline = tc.policy })
			msg := testMessage("curl")
			if tc.lf {
				msg = strings.ReplaceAll(msg, "\r\n", "\n")
			}
			msgFile := filepath.Join(t.TempDir(), "msg.eml")
			require.NoError(t, os.WriteFile(msgFile, []byte(msg), 0o600))
			args := append([]string{"-sS", "-v", "smtp://" + addr + "/curl.test", "--mail-from", "alice@a.test",
				"--mail-rcpt", "bob@b.test", "--upload-file", msgFile}, tc.args...)
			out, err := peer.RunErr(30*time.Second, nil, curl, args...)
			if tc.fail != "" {
				require.Error(t, err)
				assert.Contains(t, out, tc.fail)
				assert.Empty(t, rec.messages())
				return
			}
			require.NoError(t, err, out)
			msgs := rec.messages()
			require.Len(t, msgs, 1, out)
			assert.Contains(t, msgs[0].Data, "Subject: curl\r\n")
			assert.Contains(t, msgs[0].Data, "\r\n.leading dot\r\n")
			assert.Equal(t, tc.tls, msgs[0].TLS)
			assert.Equal(t, tc.id, msgs[0].Identity)
			assert.Equal(t, "curl.test", msgs[0].Helo)
		})
	}
}

func TestInteropSMTPSource(t *testing.T) {
	t.Parallel()
	source := peer.Path(t, "smtp-source")
	for _, tc := range []struct {
		name string
		args []string
		lmtp bool
	}{
		{"connection per message", []string{"-m", "50", "-s", "5"}, false},
		{"reused connections", []string{"-d", "-m", "50", "-s", "5"}, false},
		{"lmtp", []string{"-L", "-m", "20", "-s", "2"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, rec, addr := newTestServer(t, func(s *Server) { s.LMTP = tc.lmtp })
			args := append([]string{"-c", "-l", "2048", "-f", "alice@a.test", "-t", "bob@b.test"}, tc.args...)
			out, err := peer.RunErr(60*time.Second, nil, source, append(args, addr)...)
			require.NoError(t, err, out)
			n := 50
			if tc.lmtp {
				n = 20
			}
			msgs := rec.messages()
			require.Len(t, msgs, n, out)
			for _, m := range msgs {
				assert.Equal(t, "alice", m.From.Local)
				assert.GreaterOrEqual(t, len(m.Data), 2048)
			}
		})
	}
}

// implicitTLSServer runs ListenAndServeTLS (RFC 8314 implicit TLS) with the
// certificate and key in files, AUTH as interopServer.
func implicitTLSServer(t *testing.T) (*recorder, string) {
	t.Helper()
	p := mustPair(t)
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(cert, p.CertPEM, 0o600))
	require.NoError(t, os.WriteFile(key, p.KeyPEM, 0o600))
	users := auth.NewMemoryStore()
	require.NoError(t, users.SetPassword("user", "secret"))
	rec := &recorder{users: users}
	addr := peer.Addr(peer.FreePort(t))
	srv := &Server{Addr: addr, Hostname: "mx.test", Backend: rec}
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServeTLS(cert, key) }()
	t.Cleanup(func() {
		require.NoError(t, srv.Shutdown(context.Background()))
		assert.ErrorIs(t, <-done, ErrServerClosed)
	})
	peer.WaitListening(t, addr, 10*time.Second)
	return rec, addr
}

// TestInteropGSASL authenticates with GNU SASL's SMTP client, through STARTTLS
// with certificate verification, for each mechanism both sides know,
// including SCRAM with channel binding.
func TestInteropGSASL(t *testing.T) {
	t.Parallel()
	gsasl := peer.Path(t, "gsasl")
	p := mustPair(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile, p.CertPEM, 0o600))
	for _, mech := range []string{"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"} {
		for _, password := range []string{"secret", "wrong"} {
			t.Run(mech+"/"+password, func(t *testing.T) {
				t.Parallel()
				users := auth.NewMemoryStore()
				require.NoError(t, users.SetPassword("user", "secret"))
				rec := &recorder{users: users, allMechs: true}
				_, _, addr := newTestServerWith(t, rec, func(s *Server) { s.TLSConfig = p.Server })
				args := []string{"--smtp", "--connect=" + addr, "--starttls", "--x509-ca-file=" + caFile,
					"-m", mech, "-a", "user", "-p", password, "--verbose"}
				if strings.HasPrefix(mech, "SCRAM") && !strings.HasSuffix(mech, "-PLUS") {
					// gsasl will not run a SCRAM without channel binding
					// when it has TLS channel-binding data.
					args = append(args, "--no-cb")
				}
				out, err := peer.RunErr(30*time.Second, nil, gsasl, args...)
				if password == "wrong" {
					require.Error(t, err, out)
					assert.Contains(t, out, "535 5.7.8")
				} else {
					require.NoError(t, err, out)
					assert.Contains(t, out, "235 2.7.0")
				}
				require.Eventually(t, func() bool { rec.mu.Lock(); defer rec.mu.Unlock(); return rec.logouts == 1 }, 10*time.Second, time.Millisecond)
				rec.mu.Lock()
				defer rec.mu.Unlock()
				if password == "wrong" {
					assert.Empty(t, rec.identities)
				} else {
					assert.Equal(t, []string{"user"}, rec.identities)
				}
			})
		}
	}
}

package pop3

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailwire/mailwire/internal/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// interopServer serves alice's maildrop in cleartext (with STLS and insecure
// auth allowed, as peers need) and over implicit TLS.
func interopServer(t *testing.T) (b *memBackend, addr, tlsAddr string) {
	t.Helper()
	b = newMemBackend()
	b.addUser("alice", "secret", msg1, msg2, msg3)
	pair, _ := peer.TLS(t)
	srv := &Server{Backend: b, TLSConfig: pair.Server, AllowInsecureAuth: true, Hostname: "pop.test"}
	addr = startServer(t, srv)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Serve(tlsListener(l, pair.Server))
	return b, addr, l.Addr().String()
}

const poplibScript = `
import poplib, ssl, sys, json
host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
p = poplib.POP3(host, port, timeout=20)
out = {"welcome": p.getwelcome().decode()}
if mode == "apop":
    p.apop("alice", "secret")
else:
    p.stls(context=ctx)
    out["capa"] = sorted(p.capa().keys())
    p.user("alice")
    p.pass_("secret")
out["stat"] = list(p.stat())
out["uidl"] = [l.decode() for l in p.uidl()[1]]
resp, lines, octets = p.retr(2)
out["retr"] = [l.decode() for l in lines]
out["top"] = [l.decode() for l in p.top(3, 1)[1]]
p.dele(1)
out["quit"] = p.quit().decode()
print(json.dumps(out))
`

func TestInteropPoplib(t *testing.T) {
	py := peer.Python(t)
	script := filepath.Join(t.TempDir(), "pop.py")
	require.NoError(t, os.WriteFile(script, []byte(poplibScript), 0o600))
	for _, mode := range []string{"stls", "apop"} {
		t.Run(mode, func(t *testing.T) {
			b, addr, _ := interopServer(t)
			host, port, _ := net.SplitHostPort(addr)
			out := peer.Run(t, 30*time.Second, py, script, host, port, mode)
			assert.Contains(t, out, `"stat": [3, 147]`)
			assert.Contains(t, out, `"uidl": ["1 uid-alice-1", "2 uid-alice-2", "3 uid-alice-3"]`)
			assert.Contains(t, out, `"retr": ["From: b@example.org", "Subject: two", "", "bare LF body", ".", "end"]`)
			assert.Contains(t, out, `"top": ["Subject: three", "", "l1"]`)
			assert.Contains(t, out, `"quit": "+OK bye (2 messages left)"`)
			if mode == "stls" {
				assert.Contains(t, out, `"USER"`)
				assert.NotContains(t, out, `"STLS"`)
			}
			assert.Equal(t, 2, b.count("alice"))
		})
	}
}

func TestInteropCurl(t *testing.T) {
	curl := peer.Path(t, "curl")
	b, addr, tlsAddr := interopServer(t)
	run := func(args ...string) string {
		t.Helper()
		return peer.Run(t, 30*time.Second, curl, append([]string{"-sS", "--max-time", "20", "-u", "alice:secret"}, args...)...)
	}
	// LIST, RETR, UIDL in cleartext.
	assert.Equal(t, "1 58\r\n2 59\r\n3 30\r\n", run("pop3://"+addr+"/"))
	assert.Equal(t, strings.ReplaceAll(msg2, "\n", "\r\n"), run("pop3://"+addr+"/2"))
	assert.Contains(t, run("-X", "UIDL", "pop3://"+addr+"/"), "2 uid-alice-2\r\n")
	// STLS required.
	assert.Equal(t, msg1, run("--ssl-reqd", "-k", "pop3://"+addr+"/1"))
	// Implicit TLS.
	assert.Equal(t, msg1, run("-k", "pop3s://"+tlsAddr+"/1"))
	// curl's own SASL client through AUTH (RFC 5034), each mechanism checked
	// on the server side.
	for _, mech := range []string{"PLAIN", "LOGIN", "CRAM-MD5"} {
		before := len(b.mechs())
		assert.Equal(t, msg1, run("--login-options", "AUTH="+mech, "pop3://"+addr+"/1"), mech)
		assert.Equal(t, []string{mech}, b.mechs()[before:], "curl used AUTH %s", mech)
	}
	// DELE through a custom request, then the listing shrinks.
	run("-X", "DELE 3", "-I", "pop3://"+addr+"/")
	assert.Equal(t, "1 58\r\n2 59\r\n", run("pop3://"+addr+"/"))
}

func TestInteropFetchmail(t *testing.T) {
	fetchmail := peer.Path(t, "fetchmail")
	for _, tlsMode := range []string{"stls", "plain"} {
		t.Run(tlsMode, func(t *testing.T) {
			b, addr, _ := interopServer(t)
			host, port, _ := net.SplitHostPort(addr)
			home := t.TempDir()
			out := filepath.Join(home, "mbox")
			rc := filepath.Join(home, "fetchmailrc")
			var opts string
			if tlsMode == "stls" {
				opts = "sslproto tls1.2+ no sslcertck"
			} else {
				opts = "sslproto ''"
			}
			cfg := "set no bouncemail\n" +
				"poll " + host + " port " + port + " proto pop3 user \"alice\" password \"secret\"\n" +
				"  options fetchall no keep " + opts + "\n" +
				"  mda \"cat >> " + out + "\"\n"
			require.NoError(t, os.WriteFile(rc, []byte(cfg), 0o600))
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, fetchmail, "-f", rc, "--nodetach", "--nosyslog", "-v",
				"--idfile", filepath.Join(home, "fetchids"), "--pidfile", filepath.Join(home, "pid"))
			cmd.Env = append(os.Environ(), "HOME="+home, "FETCHMAILHOME="+home)
			logOut, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", logOut)
			got, err := os.ReadFile(out)
			require.NoError(t, err, "%s", logOut)
			for _, s := range []string{"Subject: one", "Subject: two", "Subject: three", "bare LF body", "\n.dotted line"} {
				assert.Contains(t, string(got), s)
			}
			if tlsMode == "stls" {
				assert.Contains(t, string(logOut), "STLS")
			}
			assert.Equal(t, 0, b.count("alice"), "maildrop drained")
		})
	}
}

// poplibAuthScript drives AUTH (RFC 5034) by hand through poplib, which has
// no SASL helper: PLAIN with an initial response, PLAIN without one, LOGIN,
// CRAM-MD5, and a cancelled exchange ("*").
const poplibAuthScript = `
import poplib, base64, hmac, sys, json
host, port, mech = sys.argv[1], int(sys.argv[2]), sys.argv[3]
b64 = lambda b: base64.b64encode(b).decode()
p = poplib.POP3(host, port, timeout=20)
out = {}
if mech == "PLAIN-IR":
    out["auth"] = p._shortcmd("AUTH PLAIN " + b64(b"\0alice\0secret")).decode()
elif mech == "PLAIN":
    out["challenge"] = p._shortcmd("AUTH PLAIN").decode()
    out["auth"] = p._shortcmd(b64(b"\0alice\0secret")).decode()
elif mech == "LOGIN":
    out["user"] = base64.b64decode(p._shortcmd("AUTH LOGIN")[2:]).decode()
    out["pass"] = base64.b64decode(p._shortcmd(b64(b"alice"))[2:]).decode()
    out["auth"] = p._shortcmd(b64(b"secret")).decode()
elif mech == "CRAM-MD5":
    chal = base64.b64decode(p._shortcmd("AUTH CRAM-MD5")[2:])
    digest = hmac.new(b"secret", chal, "md5").hexdigest()
    out["auth"] = p._shortcmd(b64(b"alice " + digest.encode())).decode()
elif mech == "cancel":
    p._shortcmd("AUTH PLAIN")
    try:
        p._shortcmd("*")
    except poplib.error_proto as e:
        out["cancel"] = e.args[0].decode()
    out["auth"] = p._shortcmd("AUTH PLAIN " + b64(b"\0alice\0secret")).decode()
out["stat"] = list(p.stat())
out["quit"] = p.quit().decode()
print(json.dumps(out))
`

// TestInteropPoplibAuth: Python's poplib authenticates to our server with
// PLAIN, LOGIN and CRAM-MD5 through AUTH.
func TestInteropPoplibAuth(t *testing.T) {
	py := peer.Python(t)
	script := filepath.Join(t.TempDir(), "popauth.py")
	require.NoError(t, os.WriteFile(script, []byte(poplibAuthScript), 0o600))
	b, addr, _ := interopServer(t)
	host, port, _ := net.SplitHostPort(addr)
	for _, tc := range []struct {
		mode, mech string
		want       []string
	}{
		{"PLAIN-IR", "PLAIN", nil},
		{"PLAIN", "PLAIN", []string{`"challenge": "+ "`}},
		{"LOGIN", "LOGIN", []string{`"user": "Username:"`, `"pass": "Password:"`}},
		{"CRAM-MD5", "CRAM-MD5", nil},
		{"cancel", "PLAIN", []string{`"cancel": "-ERR authentication cancelled"`}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			before := len(b.mechs())
			out := peer.Run(t, 30*time.Second, py, script, host, port, tc.mode)
			assert.Contains(t, out, `"auth": "+OK maildrop has 3 messages (147 octets)"`)
			assert.Contains(t, out, `"stat": [3, 147]`)
			assert.Contains(t, out, `"quit": "+OK bye (3 messages left)"`)
			for _, w := range tc.want {
				assert.Contains(t, out, w)
			}
			got := b.mechs()[before:]
			require.NotEmpty(t, got)
			assert.Equal(t, tc.mech, got[len(got)-1])
		})
	}
}

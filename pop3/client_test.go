package pop3

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/internal/peer"
	"github.com/mailwire/mailwire/internal/selfsigned"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func readAll(t *testing.T, rc io.ReadCloser, err error) string {
	t.Helper()
	require.NoError(t, err)
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	return string(b)
}

func TestClient(t *testing.T) {
	_, b, addr := newTestServer(t)
	ctx := testCtx(t)
	c, err := Dial(ctx, addr)
	require.NoError(t, err)
	c.AllowInsecureAuth = true // a loopback test server without TLS
	defer c.Close()
	assert.True(t, c.Greeting().OK)

	caps, err := c.Capa(ctx)
	require.NoError(t, err)
	assert.True(t, caps.Has("uidl"))
	assert.Equal(t, []string{"mailwire"}, caps["IMPLEMENTATION"])

	// Typed errors.
	err = c.Login(ctx, "alice", "wrong")
	var pe *Error
	require.True(t, errors.As(err, &pe), "%v", err)
	assert.Equal(t, CodeAuth, pe.Code)

	require.NoError(t, c.Login(ctx, "alice", "secret"))
	n, size, err := c.Stat(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Equal(t, int64(147), size)

	list, err := c.List(ctx)
	require.NoError(t, err)
	assert.Equal(t, []ListEntry{{Number: 1, Size: 58}, {Number: 2, Size: 59}, {Number: 3, Size: 30}}, list)
	one, err := c.ListOne(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, ListEntry{Number: 2, Size: 59}, one)
	uids, err := c.Uidl(ctx)
	require.NoError(t, err)
	assert.Equal(t, "uid-alice-3", uids[2].UID)
	u, err := c.UidlOne(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, ListEntry{Number: 1, UID: "uid-alice-1"}, u)

	rc, err := c.Retr(ctx, 1)
	assert.Equal(t, msg1, readAll(t, rc, err))
	rc, err = c.Retr(ctx, 2)
	assert.Equal(t, strings.ReplaceAll(msg2, "\n", "\r\n"), readAll(t, rc, err), "CRLF on the wire")
	rc, err = c.Top(ctx, 3, 1)
	assert.Equal(t, "Subject: three\r\n\r\nl1\r\n", readAll(t, rc, err))

	// A reader closed early is drained; the next command works.
	rc, err = c.Retr(ctx, 1)
	require.NoError(t, err)
	buf := make([]byte, 3)
	_, err = io.ReadFull(rc, buf)
	require.NoError(t, err)
	_, _, err = c.Stat(ctx)
	assert.Error(t, err, "previous message still being read")
	require.NoError(t, rc.Close())

	_, err = c.Retr(ctx, 9)
	require.True(t, errors.As(err, &pe))
	assert.Equal(t, "no such message, only 3 messages in maildrop", pe.Message)

	require.NoError(t, c.Dele(ctx, 1))
	require.NoError(t, c.Noop(ctx))
	require.NoError(t, c.Rset(ctx))
	require.NoError(t, c.Dele(ctx, 3))
	assert.Error(t, c.User(ctx, "x\r\nDELE 2"), "injection refused")
	require.NoError(t, c.Quit(ctx))
	assert.Equal(t, 2, b.count("alice"))
}

func TestClientAPOP(t *testing.T) {
	_, _, addr := newTestServer(t)
	ctx := testCtx(t)
	c, err := Dial(ctx, addr)
	require.NoError(t, err)
	c.AllowInsecureAuth = true // a loopback test server without TLS
	defer c.Close()
	var pe *Error
	require.True(t, errors.As(c.APOP(ctx, "alice", "nope"), &pe))
	require.NoError(t, c.APOP(ctx, "alice", "secret"))
	n, _, err := c.Stat(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
}

func TestClientAuth(t *testing.T) {
	_, _, addr := newTestServer(t)
	ctx := testCtx(t)
	scram, err := auth.NewSCRAMClient("SCRAM-SHA-256", "alice", "secret", nil)
	require.NoError(t, err)
	for name, a := range map[string]auth.Client{
		"PLAIN":         auth.NewPlainClient("", "alice", "secret"),
		"LOGIN":         auth.NewLoginClient("alice", "secret"),
		"CRAM-MD5":      auth.NewCRAMMD5Client("alice", "secret"),
		"SCRAM-SHA-256": scram,
		"PLAIN long":    auth.NewPlainClient("", "alice", "secret"+strings.Repeat("x", 200)),
	} {
		t.Run(name, func(t *testing.T) {
			c, err := Dial(ctx, addr)
			require.NoError(t, err)
			c.AllowInsecureAuth = true // a loopback test server without TLS
			defer c.Close()
			if name == "PLAIN long" {
				// Too long for the AUTH line: sent after an empty challenge.
				var pe *Error
				err := c.Auth(ctx, a)
				require.True(t, errors.As(err, &pe), "%v", err)
				assert.Equal(t, CodeAuth, pe.Code)
				return
			}
			require.NoError(t, c.Auth(ctx, a))
			require.NoError(t, c.Noop(ctx))
			require.NoError(t, c.Quit(ctx))
		})
	}
}

func TestClientSTLSAndDialTLS(t *testing.T) {
	b := newMemBackend()
	b.addUser("alice", "secret", msg1)
	pair, _ := peer.TLS(t)
	srv := &Server{Backend: b, TLSConfig: pair.Server}
	addr := startServer(t, srv)
	ctx := testCtx(t)

	c, err := Dial(ctx, addr)
	require.NoError(t, err)
	c.AllowInsecureAuth = true // a loopback test server without TLS
	defer c.Close()
	var pe *Error
	require.True(t, errors.As(c.Login(ctx, "alice", "secret"), &pe))
	assert.Equal(t, CodeAuth, pe.Code)
	cfg := pair.Client.Clone()
	require.NoError(t, c.STLS(ctx, cfg))
	require.NoError(t, c.Login(ctx, "alice", "secret"))
	rc, err := c.Retr(ctx, 1)
	assert.Equal(t, msg1, readAll(t, rc, err))
	require.NoError(t, c.Quit(ctx))

	// Implicit TLS.
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv2 := &Server{Backend: b}
	go srv2.Serve(tlsListener(tl, pair.Server))
	defer srv2.Close()
	c2, err := DialTLS(ctx, tl.Addr().String(), pair.Client)
	require.NoError(t, err)
	defer c2.Close()
	require.NoError(t, c2.Auth(ctx, auth.NewPlainClient("", "alice", "secret")))
	require.NoError(t, c2.Quit(ctx))
}

func TestClientContext(t *testing.T) {
	// A server that greets and then never answers.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	go func() {
		nc, err := l.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		nc.Write([]byte("+OK hi\r\n"))
		io.Copy(io.Discard, nc)
	}()
	c, err := Dial(testCtx(t), l.Addr().String())
	require.NoError(t, err)
	c.AllowInsecureAuth = true // a loopback test server without TLS
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Noop(ctx) }()
	cancel()
	assert.Error(t, <-done)

	// Without a context deadline, Timeout bounds the wait.
	c, err = NewClient(testCtx(t), dialGreeter(t))
	require.NoError(t, err)
	c.AllowInsecureAuth = true // a loopback test server without TLS
	defer c.Close()
	c.Timeout = 10 * time.Millisecond
	err = c.Noop(context.Background())
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout(), "%v", err)
	// A cancelled context still wins.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	assert.Error(t, c.Noop(ctx))
}

// dialGreeter returns a connection to a server that greets and then never
// answers.
func dialGreeter(t *testing.T) net.Conn {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		nc, err := l.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		nc.Write([]byte("+OK hi\r\n"))
		io.Copy(io.Discard, nc)
	}()
	nc, err := net.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	return nc
}

func TestClientBadServer(t *testing.T) {
	defer func(n int) { maxListBytes = n }(maxListBytes)
	maxListBytes = 1000 // "huge list" sends 2000 octets of entries
	for name, script := range map[string]string{
		"bad greeting":     "HELLO\r\n",
		"err greeting":     "-ERR [SYS/TEMP] go away\r\n",
		"eof":              "",
		"long greeting":    "+OK " + strings.Repeat("x", 10000) + "\r\n",
		"bad stat":         "+OK hi\r\n+OK x y\r\n",
		"truncated list":   "+OK hi\r\n+OK\r\n1 100\r\n",
		"bad listing":      "+OK hi\r\n+OK\r\nfoo\r\n.\r\n",
		"negative size":    "+OK hi\r\n+OK\r\n1 -5\r\n.\r\n",
		"truncated stream": "+OK hi\r\n+OK\r\nabc\r\n",
		"huge list":        "+OK hi\r\n+OK\r\n" + strings.Repeat("1 "+strings.Repeat("9", 98)+"\r\n", 20) + ".\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			defer l.Close()
			go func() {
				sn, err := l.Accept()
				if err != nil {
					return
				}
				defer sn.Close()
				sn.Write([]byte(script))
				sn.(*net.TCPConn).CloseWrite()
				io.Copy(io.Discard, sn)
			}()
			cn, err := net.Dial("tcp", l.Addr().String())
			require.NoError(t, err)
			defer cn.Close()
			ctx := testCtx(t)
			c, err := NewClient(ctx, cn)
			if err != nil {
				assert.NotContains(t, name, "bad stat")
				return
			}
			switch {
			case strings.Contains(name, "stat"):
				_, _, err = c.Stat(ctx)
			case strings.Contains(name, "stream"):
				var rc io.ReadCloser
				rc, err = c.Retr(ctx, 1)
				require.NoError(t, err)
				_, err = io.ReadAll(rc)
				assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
			default:
				_, err = c.List(ctx)
			}
			assert.Error(t, err)
			if name == "huge list" {
				assert.ErrorIs(t, err, ErrProtocol)
			}
		})
	}
}

// TestClientAuthSCRAMPlus runs SCRAM-SHA-256-PLUS over implicit TLS: on TLS
// 1.3 with tls-exporter, and on TLS 1.2 with tls-server-end-point, which the
// server can only verify when auth.ServerConfig.Certificate holds its leaf
// certificate; without it -PLUS is not offered and plain SCRAM (flag "y")
// still works.
func TestClientAuthSCRAMPlus(t *testing.T) {
	pair, _ := peer.TLS(t)
	leaf, err := x509.ParseCertificate(pair.Server.Certificates[0].Certificate[0])
	require.NoError(t, err)
	ctx := testCtx(t)
	for _, tc := range []struct {
		name     string
		version  uint16
		cert     *x509.Certificate
		wantMech string
	}{
		{"TLS 1.3", tls.VersionTLS13, nil, "SCRAM-SHA-256-PLUS"},
		{"TLS 1.2 with certificate", tls.VersionTLS12, leaf, "SCRAM-SHA-256-PLUS"},
		{"TLS 1.2 without certificate", tls.VersionTLS12, nil, "SCRAM-SHA-256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newMemBackend()
			b.addUser("alice", "secret", msg1)
			b.sasl.Certificate = tc.cert
			srv := &Server{Backend: b, TLSConfig: pair.Server}
			l, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			done := make(chan error, 1)
			go func() { done <- srv.Serve(tlsListener(l, pair.Server)) }()
			t.Cleanup(func() { srv.Close(); <-done })

			cfg := pair.Client.Clone()
			cfg.MaxVersion = tc.version
			c, err := DialTLS(ctx, l.Addr().String(), cfg)
			require.NoError(t, err)
			defer c.Close()
			caps, err := c.Capa(ctx)
			require.NoError(t, err)
			cs := c.Conn().(*tls.Conn).ConnectionState()
			require.Equal(t, tc.version, cs.Version)
			mech := auth.ChooseMechanism(caps["SASL"], &cs)
			require.Equal(t, tc.wantMech, mech, "offered %v", caps["SASL"])
			a, err := auth.NewClient(mech, "alice", "secret", &cs)
			require.NoError(t, err)
			require.NoError(t, c.Auth(ctx, a))
			assert.Equal(t, []string{mech}, b.mechs())
			n, _, err := c.Stat(ctx)
			require.NoError(t, err)
			assert.Equal(t, 1, n)
			require.NoError(t, c.Quit(ctx))
		})
	}
}

// TestClientSTLSServerName: STLS verifies the certificate against the host
// name given to Dial, not the address the name resolved to.
func TestClientSTLSServerName(t *testing.T) {
	certPEM, keyPEM, err := selfsigned.Generate([]string{"localhost"}, time.Hour)
	require.NoError(t, err)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(certPEM))
	b := newMemBackend()
	b.addUser("alice", "secret", msg1)
	srv := &Server{Backend: b, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	addr := startServer(t, srv)
	_, port, _ := net.SplitHostPort(addr)
	ctx := testCtx(t)

	c, err := Dial(ctx, net.JoinHostPort("localhost", port))
	require.NoError(t, err)
	c.AllowInsecureAuth = true // a loopback test server without TLS
	defer c.Close()
	require.NoError(t, c.STLS(ctx, &tls.Config{RootCAs: pool}))
	require.NoError(t, c.Login(ctx, "alice", "secret"))
	require.NoError(t, c.Quit(ctx))

	// Dialed by address, the certificate (for "localhost" only) does not
	// match.
	c, err = Dial(ctx, addr)
	require.NoError(t, err)
	c.AllowInsecureAuth = true // a loopback test server without TLS
	defer c.Close()
	require.Error(t, c.STLS(ctx, &tls.Config{RootCAs: pool}))
}

// A server that accepts SCRAM without proving it knows the password (no
// server signature before +OK) is refused by Client.Auth (RFC 5802 §5).
func TestClientAuthSCRAMWithoutServerProof(t *testing.T) {
	const serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	got := make(chan []string, 1)
	go func() {
		nc, err := l.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer nc.Close()
		r := bufio.NewReader(nc)
		var lines []string
		io.WriteString(nc, "+OK ready\r\n")
		for _, reply := range []string{"+ " + base64.StdEncoding.EncodeToString([]byte(serverFirst)), "+OK logged in"} {
			l, err := r.ReadString('\n')
			if err != nil {
				break
			}
			lines = append(lines, l)
			io.WriteString(nc, reply+"\r\n")
		}
		got <- lines
	}()
	ctx := testCtx(t)
	c, err := Dial(ctx, l.Addr().String())
	require.NoError(t, err)
	c.AllowInsecureAuth = true // a loopback test server without TLS
	defer c.Close()
	a, err := auth.NewSCRAMClient("SCRAM-SHA-256", "user", "pencil", nil)
	require.NoError(t, err)
	a.Nonce = "rOprNGfwEbeRWgbNEkqO"
	err = c.Auth(ctx, a)
	require.ErrorIs(t, err, auth.ErrAuthFailed)
	lines := <-got
	require.Len(t, lines, 2, "the client sent AUTH and its final message")
	assert.Equal(t, "AUTH SCRAM-SHA-256 "+base64.StdEncoding.EncodeToString([]byte("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"))+"\r\n", lines[0])
}

// RFC 2595 §4 and the STARTTLS injection attack: a response arriving with
// the STLS +OK, before the handshake, can only be a man in the middle's, so
// the client refuses to go on.
func TestClientSTLSInjectedResponse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	go func() {
		nc, err := l.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		io.WriteString(nc, "+OK ready\r\n")
		r := bufio.NewReader(nc)
		if _, err := r.ReadString('\n'); err != nil {
			return
		}
		io.WriteString(nc, "+OK begin TLS\r\n+OK maildrop has 0 messages\r\n")
		io.Copy(io.Discard, r)
	}()
	ctx := testCtx(t)
	c, err := Dial(ctx, l.Addr().String())
	require.NoError(t, err)
	c.AllowInsecureAuth = true // a loopback test server without TLS
	defer c.Close()
	// Both lines come in one write, so they arrive together.
	err = c.STLS(ctx, &tls.Config{InsecureSkipVerify: true})
	require.ErrorIs(t, err, ErrProtocol)
}

// TestClientRefusesCleartextAuth: without TLS, no credential leaves the
// client unless AllowInsecureAuth says so; APOP sends none and may run.
func TestClientRefusesCleartextAuth(t *testing.T) {
	_, b, addr := newTestServer(t)
	ctx := testCtx(t)
	c, err := Dial(ctx, addr)
	require.NoError(t, err)
	defer c.Close()
	assert.ErrorIs(t, c.User(ctx, "alice"), ErrInsecureAuth)
	assert.ErrorIs(t, c.Pass(ctx, "secret"), ErrInsecureAuth)
	assert.ErrorIs(t, c.UserPass(ctx, "alice", "secret"), ErrInsecureAuth)
	assert.ErrorIs(t, c.Login(ctx, "alice", "secret"), ErrInsecureAuth)
	assert.ErrorIs(t, c.Auth(ctx, auth.NewPlainClient("", "alice", "secret")), ErrInsecureAuth)
	assert.Empty(t, b.mechs(), "nothing reached the server")
	require.NoError(t, c.APOP(ctx, "alice", "secret"))
}

// TestClientLoginChoosesMechanism: Login takes the strongest SASL mechanism
// offered, and USER/PASS from a server without SASL.
func TestClientLoginChoosesMechanism(t *testing.T) {
	_, b, addr := newTestServer(t)
	ctx := testCtx(t)
	c, err := Dial(ctx, addr)
	require.NoError(t, err)
	defer c.Close()
	c.AllowInsecureAuth = true
	require.NoError(t, c.Login(ctx, "alice", "secret"))
	assert.Equal(t, []string{"SCRAM-SHA-256"}, b.mechs())
	require.NoError(t, c.Quit(ctx))

	_, _, addr = newTestServer(t, func(s *Server) {
		s.Backend = passwordBackend(func(_ context.Context, u, p string) error {
			if u == "alice" && p == "secret" {
				return nil
			}
			return auth.ErrAuthFailed
		}, b.OpenMaildrop)
	})
	c, err = Dial(ctx, addr)
	require.NoError(t, err)
	defer c.Close()
	c.AllowInsecureAuth = true
	require.NoError(t, c.Login(ctx, "alice", "secret"), "PLAIN, or USER and PASS")
}

package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/dnsmx/dnsmxtest"
	"github.com/mailwire/mailwire/message/maildir"
	"github.com/mailwire/mailwire/pop3"
	"github.com/mailwire/mailwire/smtp"
)

// Test users of the example.test domain.
const (
	testDomain = "example.test"
	alicePass  = "alice-secret"
	bobPass    = "bob pass wörd"
)

// testSystem is a system running in-process on free loopback ports.
type testSystem struct {
	*system
	dir    string
	notice *syncBuffer
	logs   *syncBuffer
	client *tls.Config // trusts the generated certificate
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testConfig returns a configuration on free ports in a temporary data
// directory, with users alice and bob, and an in-process DNS server of its
// own that knows no names, so that every SPF and DMARC check finds none at
// once.
func testConfig(t *testing.T) *config {
	dns := dnsmxtest.NewServer(t, dnsmxtest.Zone{})
	return &config{
		DNS:             dns.Addr(),
		SMTPAddr:        "127.0.0.1:0",
		SubmissionAddr:  "127.0.0.1:0",
		SubmissionsAddr: "127.0.0.1:0",
		POP3Addr:        "127.0.0.1:0",
		POP3SAddr:       "127.0.0.1:0",
		DataDir:         filepath.Join(t.TempDir(), "data"),
		Hostname:        "mx.example.test",
		Domains:         []string{testDomain},
		Users:           []userSpec{{"alice", alicePass}, {"bob", bobPass}},
		LogLevel:        slog.LevelDebug,
	}
}

// startSystem starts cfg (testConfig when nil) and stops it when the test
// ends, printing the server's log if the test failed.
func startSystem(t *testing.T, cfg *config) *testSystem {
	t.Helper()
	if cfg == nil {
		cfg = testConfig(t)
	}
	ts := &testSystem{dir: cfg.DataDir, notice: &syncBuffer{}, logs: &syncBuffer{}}
	log := slog.New(slog.NewTextHandler(ts.logs, &slog.HandlerOptions{Level: cfg.LogLevel}))
	sys, err := newSystem(cfg, log, ts.notice)
	require.NoError(t, err)
	require.NoError(t, sys.Start())
	ts.system = sys
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, sys.Shutdown(ctx))
		if t.Failed() {
			t.Logf("server log:\n%s", ts.logs.String())
		}
	})
	certFile := filepath.Join(cfg.DataDir, "tls", "cert.pem")
	if cfg.CertFile != "" {
		certFile = cfg.CertFile
	}
	pem, err := os.ReadFile(certFile)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem))
	ts.client = &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	return ts
}

func (ts *testSystem) certFile() string { return filepath.Join(ts.dir, "tls", "cert.pem") }

// submit sends msg from alice over the submission port with STARTTLS and
// SCRAM-SHA-256.
func (ts *testSystem) submit(t *testing.T, user, pass, from string, to []string, msg []byte) (*smtp.Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := smtp.DialStartTLS(ctx, ts.Addr(lnSubmission), &smtp.ClientOptions{TLSConfig: ts.client})
	require.NoError(t, err)
	defer c.Close()
	a, err := auth.NewSCRAMClient("SCRAM-SHA-256", user, pass, nil)
	require.NoError(t, err)
	require.NoError(t, c.Auth(ctx, a))
	env := &smtp.Envelope{From: smtp.MustParseMailbox(from)}
	for _, a := range to {
		env.To = append(env.To, smtp.MustParseMailbox(a))
	}
	res, err := c.Send(ctx, env, bytes.NewReader(msg))
	if err == nil {
		require.NoError(t, c.Quit(ctx))
	}
	return res, err
}

// popAll logs in over POP3 with STLS and returns every message.
func (ts *testSystem) popAll(t *testing.T, user, pass string) [][]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pop3.Dial(ctx, ts.Addr(lnPOP3))
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.STLS(ctx, ts.client))
	require.NoError(t, c.Login(ctx, user, pass))
	list, err := c.List(ctx)
	require.NoError(t, err)
	var msgs [][]byte
	for _, m := range list {
		r, err := c.Retr(ctx, m.Number)
		require.NoError(t, err)
		b, err := io.ReadAll(r)
		require.NoError(t, err)
		require.NoError(t, r.Close())
		require.EqualValues(t, m.Size, len(b), "LIST size of message %d", m.Number)
		msgs = append(msgs, b)
	}
	require.NoError(t, c.Quit(ctx))
	return msgs
}

// stored returns the messages in user's Maildir, read from the files.
func (ts *testSystem) stored(t *testing.T, user string) [][]byte {
	return storedIn(t, filepath.Join(ts.dir, "mail", user))
}

func storedIn(t *testing.T, path string) [][]byte {
	t.Helper()
	d, err := maildir.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	list, err := d.List()
	require.NoError(t, err)
	var out [][]byte
	for _, m := range list {
		b, err := os.ReadFile(filepath.Join(path, m.File))
		require.NoError(t, err)
		out = append(out, b)
	}
	return out
}

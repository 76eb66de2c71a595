package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/dnsmx/dnsmxtest"
	"github.com/mailwire/mailwire/internal/peer"
	"github.com/mailwire/mailwire/message"
	"github.com/mailwire/mailwire/message/maildir"
	"github.com/mailwire/mailwire/pop3"
	"github.com/mailwire/mailwire/smtp"
)

var (
	binMu    sync.Mutex
	binDir   string
	binPaths = map[string]string{}
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildBinary builds the command in pkgDir (relative to this package) once
// per test run and returns the executable's path.
func buildBinary(t *testing.T, pkgDir string) string {
	t.Helper()
	binMu.Lock()
	defer binMu.Unlock()
	if p, ok := binPaths[pkgDir]; ok {
		return p
	}
	if binDir == "" {
		d, err := os.MkdirTemp("", "mailserver-test-bin")
		require.NoError(t, err)
		binDir = d
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	name := filepath.Base(filepath.Clean(pkgDir))
	if name == "." {
		name = "mailserver"
	}
	out := filepath.Join(binDir, name)
	cmd := exec.Command(goBin, "build", "-o", out, pkgDir)
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build %s:\n%s", pkgDir, b)
	binPaths[pkgDir] = out
	return out
}

// proc is a mailserver running as a subprocess.
type proc struct {
	*peer.Process
	cmd            *exec.Cmd
	stdout, stderr fmt.Stringer
}

// output makes a Process's collected output a fmt.Stringer.
type output func() string

func (o output) String() string { return o() }

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// wait waits for the process to exit.
func (p *proc) wait(t *testing.T) error { return p.Wait(t, 30*time.Second) }

// ports are free loopback addresses for the five listeners.
type ports struct{ smtp, submission, submissions, pop3, pop3s string }

func (p ports) args() []string {
	return []string{"-smtp", p.smtp, "-submission", p.submission, "-submissions", p.submissions, "-pop3", p.pop3, "-pop3s", p.pop3s}
}

// startServer starts the mailserver binary on free ports with the extra
// arguments and waits until it listens on all five. A port taken by another
// process between peer.FreePort and the start (tests of other packages run
// at the same time) makes peer.StartServer start it again on new ports;
// dir returns the working directory for each attempt.
func startServer(t *testing.T, bin string, dir func() string, extra ...string) (*proc, ports) {
	t.Helper()
	var pp ports
	// A DNS server that knows no names: SPF and DMARC find no records at
	// once, whatever the machine's resolver.
	dns := dnsmxtest.NewServer(t, dnsmxtest.Zone{})
	p, _ := peer.StartServer(t, peer.ServerOptions{Ports: 5}, func(port []int) *exec.Cmd {
		pp = ports{peer.Addr(port[0]), peer.Addr(port[1]), peer.Addr(port[2]), peer.Addr(port[3]), peer.Addr(port[4])}
		cmd := exec.Command(bin, append(append(pp.args(), "-dns", dns.Addr()), extra...)...)
		cmd.Dir = dir()
		return cmd
	})
	return &proc{Process: p, cmd: p.Cmd, stdout: output(p.Stdout), stderr: output(p.Stderr)}, pp
}

func clientTLS(t *testing.T, certFile string) *tls.Config {
	pem, err := os.ReadFile(certFile)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem))
	return &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
}

// The built binary, started without -data in an empty directory (as
// `go run ./examples/mailserver` on a fresh machine), creates
// ./mailserver-data, prints the demo password once, serves, and stops
// cleanly on SIGTERM. Ports are free ones rather than the defaults, which
// TestFlagDefaults checks, so that parallel test runs cannot collide.
func TestBinaryFirstStart(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t, ".")
	// A fresh directory for each attempt: each must be a first start.
	var work string
	p, pp := startServer(t, bin, func() string { work = t.TempDir(); return work })

	out := p.stdout.String()
	_, rest, ok := strings.Cut(out, `created user "demo" with password `)
	require.True(t, ok, "stdout: %s", out)
	pass, _, _ := strings.Cut(rest, "\n")
	for _, f := range []string{"users", "tls/cert.pem", "tls/key.pem", "mail"} {
		_, err := os.Stat(filepath.Join(work, "mailserver-data", f))
		assert.NoError(t, err, f)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tc := clientTLS(t, filepath.Join(work, "mailserver-data", "tls", "cert.pem"))
	c, err := smtp.DialStartTLS(ctx, pp.submission, &smtp.ClientOptions{TLSConfig: tc})
	require.NoError(t, err)
	require.NoError(t, c.Auth(ctx, auth.NewPlainClient("", "demo", pass)))
	_, err = c.Send(ctx, &smtp.Envelope{From: smtp.MustParseMailbox("demo@localhost"), To: []smtp.Mailbox{smtp.MustParseMailbox("demo@localhost")}}, strings.NewReader("Subject: first\r\n\r\nhello\r\n"))
	require.NoError(t, err)
	require.NoError(t, c.Quit(ctx))
	assert.Len(t, storedIn(t, filepath.Join(work, "mailserver-data", "mail", "demo")), 1)

	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, p.wait(t), "exit status 0 after SIGTERM")
	assert.Contains(t, p.stderr.String(), "msg=stopped")
	assert.Contains(t, p.stderr.String(), "msg=delivered")

	// A second start prints no password and keeps the user.
	p2, _ := startServer(t, bin, func() string { return work })
	assert.NotContains(t, p2.stdout.String(), "password")
	require.NoError(t, p2.cmd.Process.Signal(syscall.SIGINT))
	require.NoError(t, p2.wait(t))
}

// loadMessage returns a message carrying a unique id and the checksum of
// its body, which a reader can check.
func loadMessage(id string, rnd *rand.Rand) []byte {
	raw := make([]byte, 256+rnd.IntN(6000))
	for i := range raw {
		raw[i] = byte(rnd.Uint32())
	}
	enc := base64.StdEncoding.EncodeToString(raw)
	var body strings.Builder
	for len(enc) > 76 {
		body.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	body.WriteString(enc + "\r\n")
	sum := sha256.Sum256([]byte(body.String()))
	return []byte("From: alice@example.test\r\nTo: bob@example.test\r\nSubject: load " + id +
		"\r\nX-Load-Id: " + id + "\r\nX-Checksum: " + hex.EncodeToString(sum[:]) + "\r\n\r\n" + body.String())
}

// checkLoadMessage verifies a stored or retrieved message and returns its id.
func checkLoadMessage(t *testing.T, m []byte) string {
	t.Helper()
	br := bufio.NewReader(bytes.NewReader(m))
	h, err := message.ReadHeader(br, message.Limits{})
	require.NoError(t, err)
	body, err := io.ReadAll(br)
	require.NoError(t, err)
	id := h.Get("X-Load-Id")
	require.NotEmpty(t, id, "message without id: %q", m[:min(len(m), 300)])
	sum := sha256.Sum256(body)
	require.Equal(t, h.Get("X-Checksum"), hex.EncodeToString(sum[:]), "message %s is intact", id)
	require.NotEmpty(t, h.Get("Received"))
	require.Equal(t, "<alice@example.test>", h.Get("Return-Path"))
	return id
}

// SIGKILL in the middle of a load of submissions from 8 concurrent clients:
// after a restart, every message that got 250 is in the Maildir, intact,
// and nothing half-written is visible.
func TestKillDuringLoad(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t, ".")
	total, clients := 1000, 8
	if testing.Short() {
		total = 200
	}
	data := filepath.Join(t.TempDir(), "data")
	p, pp := startServer(t, bin, t.TempDir, "-data", data, "-domain", "example.test", "-user", "alice:"+alicePass, "-user", "bob:"+bobPass, "-log-level", "warn")
	tc := clientTLS(t, filepath.Join(data, "tls", "cert.pem"))

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 1))
	killAt := int64(total/10 + rnd.IntN(total*8/10))
	var (
		next     atomic.Int64
		accepted sync.Map // id → true for messages that got 250
		nOK      atomic.Int64
		killOnce sync.Once
		wg       sync.WaitGroup
	)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for w := range clients {
		wg.Go(func() {
			wrnd := rand.New(rand.NewPCG(seed, uint64(w)+2))
			c, err := smtp.DialStartTLS(ctx, pp.submission, &smtp.ClientOptions{TLSConfig: tc})
			if err != nil {
				return // the server may already be dead
			}
			defer c.Close()
			if c.Auth(ctx, auth.NewPlainClient("", "alice", alicePass)) != nil {
				return
			}
			for {
				i := next.Add(1)
				if i > int64(total) {
					return
				}
				id := fmt.Sprintf("m%05d", i)
				_, err := c.Send(ctx, &smtp.Envelope{From: smtp.MustParseMailbox("alice@example.test"), To: []smtp.Mailbox{smtp.MustParseMailbox("bob@example.test")}}, bytes.NewReader(loadMessage(id, wrnd)))
				if err != nil {
					return // killed
				}
				accepted.Store(id, true)
				if nOK.Add(1) >= killAt {
					killOnce.Do(func() { p.cmd.Process.Signal(syscall.SIGKILL) })
				}
			}
		})
	}
	wg.Wait()
	killOnce.Do(func() { p.cmd.Process.Signal(syscall.SIGKILL) })
	err := p.wait(t)
	require.Error(t, err, "killed")
	t.Logf("%d messages got 250 before SIGKILL (kill after %d)", nOK.Load(), killAt)
	require.GreaterOrEqual(t, nOK.Load(), killAt)

	// Whatever is visible in the Maildir is complete.
	stored := map[string]bool{}
	for _, m := range storedIn(t, filepath.Join(data, "mail", "bob")) {
		id := checkLoadMessage(t, m)
		require.False(t, stored[id], "message %s stored twice", id)
		stored[id] = true
	}

	// After a restart, POP3 serves every accepted message, intact.
	p2, pp2 := startServer(t, bin, t.TempDir, "-data", data, "-domain", "example.test", "-log-level", "warn")
	pc, err := pop3.Dial(ctx, pp2.pop3)
	require.NoError(t, err)
	defer pc.Close()
	require.NoError(t, pc.STLS(ctx, tc))
	require.NoError(t, pc.Login(ctx, "bob", bobPass))
	list, err := pc.List(ctx)
	require.NoError(t, err)
	require.Len(t, list, len(stored))
	retrieved := map[string]bool{}
	for _, m := range list {
		r, err := pc.Retr(ctx, m.Number)
		require.NoError(t, err)
		b, err := io.ReadAll(r)
		require.NoError(t, err)
		require.EqualValues(t, m.Size, len(b))
		retrieved[checkLoadMessage(t, b)] = true
	}
	require.NoError(t, pc.Quit(ctx))
	missing := 0
	accepted.Range(func(k, _ any) bool {
		if !retrieved[k.(string)] {
			missing++
			t.Errorf("message %s got 250 but is not in the Maildir", k)
		}
		return missing < 10
	})
	t.Logf("%d accepted, %d stored (some may have been stored just before the 250 was sent)", nOK.Load(), len(stored))
	require.NoError(t, p2.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, p2.wait(t))

	// Abandoned files in tmp are never in new or cur.
	d, err := maildir.Open(filepath.Join(data, "mail", "bob"))
	require.NoError(t, err)
	ms, err := d.List()
	require.NoError(t, err)
	assert.Len(t, ms, len(stored))
}

// mailctl against the mailserver binary: send with an attachment over
// submission, list and fetch over POP3 into a Maildir, delete.
func TestMailctl(t *testing.T) {
	t.Parallel()
	mailctl := buildBinary(t, "../mailctl")
	ts := startSystem(t, nil)
	dir := t.TempDir()
	attachment := make([]byte, 300<<10)
	for i := range attachment {
		attachment[i] = byte(i * 7)
	}
	attPath := filepath.Join(dir, "data.bin")
	require.NoError(t, os.WriteFile(attPath, attachment, 0o600))

	run := func(stdin string, args ...string) (string, error) {
		cmd := exec.Command(mailctl, args...)
		cmd.Stdin = strings.NewReader(stdin)
		cmd.Env = append(os.Environ(), "MAILCTL_PASSWORD="+bobPass)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		done := make(chan error, 1)
		require.NoError(t, cmd.Start())
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			return out.String(), err
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			t.Fatal("mailctl hangs")
			return "", nil
		}
	}
	out, err := run("Hello Bob,\nsee attached.\n", "send", "-server", ts.Addr(lnSubmission), "-cafile", ts.certFile(),
		"-user", "alice@"+testDomain, "-password", alicePass,
		"-to", "Bob <bob@"+testDomain+">", "-subject", "From mailctl", "-attach", attPath)
	require.NoError(t, err, out)
	assert.Contains(t, out, "bob@"+testDomain+": accepted")
	out, err = run("", "send", "-server", ts.Addr(lnSubmissions), "-tls", "-insecure", "-mech", "CRAM-MD5",
		"-user", "alice", "-password", alicePass, "-from", "alice@"+testDomain,
		"-to", "bob@"+testDomain+",nobody@"+testDomain, "-body", "second")
	require.Error(t, err, out)
	assert.Contains(t, out, "nobody@"+testDomain+": refused")
	assert.Contains(t, out, "bob@"+testDomain+": accepted")
	out, err = run("", "send", "-server", ts.Addr(lnSubmission), "-insecure",
		"-user", "alice", "-password", "wrong", "-from", "alice@"+testDomain, "-to", "bob@"+testDomain, "-body", "x")
	require.Error(t, err)
	assert.Contains(t, out, "535")

	out, err = run("", "pop3", "list", "-server", ts.Addr(lnPOP3), "-cafile", ts.certFile(), "-user", "bob")
	require.NoError(t, err, out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2, out)

	md := filepath.Join(dir, "Mail")
	out, err = run("", "pop3", "fetch", "-server", ts.Addr(lnPOP3S), "-tls", "-insecure", "-user", "bob", "-mech", "SCRAM-SHA-256-PLUS", "-maildir", md, "-delete")
	require.NoError(t, err, out)
	got := storedIn(t, md)
	require.Len(t, got, 2)
	assert.Equal(t, ts.stored(t, "bob"), [][]byte(nil), "fetched messages were deleted")
	assert.Contains(t, string(got[0]), "Subject: From mailctl")
	assert.Contains(t, string(got[1]), "second")
	var found []byte
	require.NoError(t, mimeAttachment(got[0], "data.bin", &found))
	assert.Equal(t, attachment, found)

	out, err = run("", "pop3", "delete", "-server", ts.Addr(lnPOP3), "-insecure", "-user", "bob", "1")
	require.Error(t, err)
	assert.Contains(t, out, "no message 1")
}

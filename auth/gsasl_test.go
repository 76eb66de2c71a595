package auth

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/internal/peer"
)

// GNU SASL's command-line tool speaks one SASL exchange over stdin and
// stdout: it prints the mechanism name, then one base64 line per message it
// sends, and reads one base64 line per message it receives (prompts go to
// stderr). With -d (which turns the default application-data mode off) it
// exits after the exchange, with status 0 on success.

type gsaslProc struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	stderr *lockedBuffer
}

func startGsasl(t *testing.T, args ...string) *gsaslProc {
	t.Helper()
	bin := peer.Path(t, "gsasl")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, bin, append(gsaslFlags(), args...)...)
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { in.Close(); cmd.Wait() })
	return &gsaslProc{cmd: cmd, in: in, out: bufio.NewReader(out), stderr: stderr}
}

// read returns the next message gsasl printed, decoded.
func (p *gsaslProc) read() ([]byte, error) {
	line, err := p.out.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("gsasl output ended: %w (stderr: %s)", err, p.stderr.String())
	}
	// gsasl 2.2 prints its channel binding prompt on stdout even with
	// --quiet, without a newline, so it prefixes the first message.
	for strings.HasPrefix(line, "Enter base64 encoded ") {
		_, line, _ = strings.Cut(line, ": ")
	}
	return base64.StdEncoding.DecodeString(strings.TrimRight(line, "\r\n"))
}

func (p *gsaslProc) write(msg []byte) error {
	_, err := io.WriteString(p.in, base64.StdEncoding.EncodeToString(msg)+"\n")
	return err
}

func (p *gsaslProc) mechanism(t *testing.T) string {
	line, err := p.out.ReadString('\n')
	require.NoError(t, err, "stderr: %s", p.stderr.String())
	return strings.TrimSpace(line)
}

// wait returns gsasl's exit error (nil for success).
func (p *gsaslProc) wait() error {
	p.in.Close()
	if err := p.cmd.Wait(); err != nil {
		return fmt.Errorf("gsasl: %w (stderr: %s)", err, p.stderr.String())
	}
	return nil
}

// ourServerVsGsasl runs gsasl as the client against s.
func ourServerVsGsasl(t *testing.T, s Server, pre []string, args ...string) error {
	p := startGsasl(t, append([]string{"--client"}, args...)...)
	for _, l := range pre {
		_, err := io.WriteString(p.in, l+"\n")
		require.NoError(t, err)
	}
	p.mechanism(t)
	resp, err := p.read()
	if err != nil {
		return err
	}
	if len(resp) == 0 {
		resp = nil // gsasl prints an empty line when it has no initial response
	}
	for range 10 {
		chal, done, err := s.Next(context.Background(), resp)
		if err != nil {
			p.wait()
			return err
		}
		if err := p.write(chal); err != nil {
			return err
		}
		if done {
			// gsasl asks for the protocol's success indication: an empty
			// line, for each message it still prints.
			for {
				if _, err := p.read(); err != nil {
					break
				}
				if p.write(nil) != nil {
					break
				}
			}
			return p.wait()
		}
		if resp, err = p.read(); err != nil {
			return err
		}
	}
	return fmt.Errorf("exchange did not end")
}

// ourClientVsGsasl runs gsasl as the server against c. afterIR are lines
// gsasl reads after the client's first message (channel binding data).
func ourClientVsGsasl(t *testing.T, c Client, afterIR []string, args ...string) error {
	p := startGsasl(t, append([]string{"--server"}, args...)...)
	_, ir, err := c.Start()
	require.NoError(t, err)
	p.mechanism(t)
	first := true
	finished := false
	for range 10 {
		chal, err := p.read()
		if err != nil {
			// gsasl exits after the server's last message on failure.
			return p.wait()
		}
		var resp []byte
		switch {
		case first && len(chal) == 0 && ir != nil:
			resp = ir
		case finished:
			resp = nil // gsasl asks once more after it is done
		default:
			resp, err = c.Next(chal)
			if err != nil && len(chal) == 0 {
				// Nothing more to say: the mechanism is over on our side.
				resp, err = nil, nil
				finished = true
			}
			if err != nil {
				p.wait()
				return err
			}
		}
		first = false
		if cm, ok := c.(Completer); ok && cm.Complete() == nil {
			finished = true
		}
		if err := p.write(resp); err != nil {
			return err
		}
		if resp != nil && string(resp) == string(ir) {
			for _, l := range afterIR {
				if _, err := io.WriteString(p.in, l+"\n"); err != nil {
					return err
				}
			}
		}
		if finished {
			if err := p.wait(); err != nil {
				return err
			}
			if cm, ok := c.(Completer); ok {
				return cm.Complete()
			}
			return nil
		}
	}
	return fmt.Errorf("exchange did not end")
}

func TestGsaslClientAgainstOurServer(t *testing.T) {
	st := testStore(t)
	for _, mech := range []string{"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"} {
		t.Run(mech, func(t *testing.T) {
			s, err := NewServer(mech, st, nil)
			require.NoError(t, err)
			require.NoError(t, ourServerVsGsasl(t, s, nil, "--no-cb", "-m", mech, "-a", "user", "-p", "pencil"))
			assert.Equal(t, "user", s.Identity())

			s, err = NewServer(mech, st, nil)
			require.NoError(t, err)
			err = ourServerVsGsasl(t, s, nil, "--no-cb", "-m", mech, "-a", "user", "-p", "wrong")
			require.ErrorIs(t, err, ErrAuthFailed)
		})
	}
	t.Run("PLAIN authzid", func(t *testing.T) {
		s := NewPlainServer(allowAll{st})
		require.NoError(t, ourServerVsGsasl(t, s, nil, "--no-cb", "-m", "PLAIN", "-a", "user", "-z", "tim", "-p", "pencil"))
		assert.Equal(t, "tim", s.Identity())
	})
	t.Run("SCRAM-SHA-256-PLUS tls-exporter", func(t *testing.T) {
		// gsasl reads the channel binding data from stdin: give it the
		// client end's tls-exporter value of a real TLS 1.3 connection.
		conn := handshake(t, tls.VersionTLS13, false)
		cb, err := ClientChannelBinding(conn.client)
		require.NoError(t, err)
		s, err := NewServer("SCRAM-SHA-256-PLUS", st, conn.server)
		require.NoError(t, err)
		pre := []string{base64.StdEncoding.EncodeToString(cb.Data)}
		require.NoError(t, ourServerVsGsasl(t, s, pre, "-m", "SCRAM-SHA-256-PLUS", "-a", "user", "-p", "pencil"))
		assert.Equal(t, "user", s.Identity())

		// Binding data of another connection must fail.
		other := handshake(t, tls.VersionTLS13, false)
		cb2, _ := ClientChannelBinding(other.client)
		s, _ = NewServer("SCRAM-SHA-256-PLUS", st, conn.server)
		pre = []string{base64.StdEncoding.EncodeToString(cb2.Data)}
		err = ourServerVsGsasl(t, s, pre, "-m", "SCRAM-SHA-256-PLUS", "-a", "user", "-p", "pencil")
		var se *SCRAMError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, "channel-bindings-dont-match", se.Value)
	})
}

func TestOurClientAgainstGsaslServer(t *testing.T) {
	clients := map[string]func(pass string) Client{
		"PLAIN":    func(p string) Client { return NewPlainClient("", "user", p) },
		"LOGIN":    func(p string) Client { return NewLoginClient("user", p) },
		"CRAM-MD5": func(p string) Client { return NewCRAMMD5Client("user", p) },
		"SCRAM-SHA-1": func(p string) Client {
			c, _ := NewSCRAMClient("SCRAM-SHA-1", "user", p, nil)
			return c
		},
		"SCRAM-SHA-256": func(p string) Client {
			c, _ := NewSCRAMClient("SCRAM-SHA-256", "user", p, nil)
			return c
		},
	}
	for _, mech := range []string{"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"} {
		t.Run(mech, func(t *testing.T) {
			args := []string{"--no-cb", "--disable-cleartext-validate", "--iteration-count=4096", "-m", mech, "-a", "user", "-p", "pencil"}
			require.NoError(t, ourClientVsGsasl(t, clients[mech]("pencil"), nil, args...))
			assert.Error(t, ourClientVsGsasl(t, clients[mech]("wrong"), nil, args...))
		})
	}
}

func TestOurClientAgainstGsaslServerPlus(t *testing.T) {
	// gsasl reads the server end's tls-exporter value from stdin.
	conn := handshake(t, tls.VersionTLS13, false)
	sb := ServerChannelBindings(conn.server, nil)
	pre := []string{base64.StdEncoding.EncodeToString(sb[TLSExporter])}
	args := []string{"--iteration-count=4096", "-m", "SCRAM-SHA-256-PLUS", "-a", "user", "-p", "pencil"}
	c, err := NewSCRAMClient("SCRAM-SHA-256-PLUS", "user", "pencil", conn.client)
	require.NoError(t, err)
	require.NoError(t, ourClientVsGsasl(t, c, pre, args...))

	other := handshake(t, tls.VersionTLS13, false)
	c, err = NewSCRAMClient("SCRAM-SHA-256-PLUS", "user", "pencil", other.client)
	require.NoError(t, err)
	assert.Error(t, ourClientVsGsasl(t, c, pre, args...))
}

// TLS 1.2: gsasl binds with tls-unique (it has no tls-server-end-point).
func TestGsaslTLSUnique(t *testing.T) {
	st := testStore(t)
	conn := handshake(t, tls.VersionTLS12, false)
	unique := base64.StdEncoding.EncodeToString(conn.client.TLSUnique)
	// gsasl prompts for tls-exporter first (none on TLS 1.2), then tls-unique.
	pre := []string{"", unique}

	cfg := ServerConfig{Credentials: st, Certificate: conn.cert}
	s, err := cfg.NewServer("SCRAM-SHA-256-PLUS", conn.server)
	require.NoError(t, err)
	require.NoError(t, ourServerVsGsasl(t, s, pre, "-m", "SCRAM-SHA-256-PLUS", "-a", "user", "-p", "pencil"))
	assert.Equal(t, "user", s.Identity())

	c, err := NewSCRAMClientBinding("SHA-1", "user", "pencil", ChannelBinding{TLSUnique, conn.client.TLSUnique})
	require.NoError(t, err)
	// The server asks only for the type the client chose.
	require.NoError(t, ourClientVsGsasl(t, c, []string{unique}, "--iteration-count=4096", "-m", "SCRAM-SHA-1-PLUS", "-a", "user", "-p", "pencil"))
}

func gsaslFlags() []string {
	if testing.Verbose() {
		return []string{"--verbose", "-d"}
	}
	return []string{"--quiet", "-d"}
}

// lockedBuffer collects a process's stderr while tests may read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

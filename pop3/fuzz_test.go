package pop3

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mailwire/mailwire/internal/textline"
	"github.com/stretchr/testify/require"
)

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"STAT", "RETR 1", "TOP 1 10", "PASS a b  c", "APOP mrose c4c9334bac560ecc979e58001b3e22fb", "AUTH PLAIN =", "\x00", "ab", "xyzzy 1"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		c, err := ParseCommand(line)
		if err != nil {
			return
		}
		if len(c.Name) < 3 || len(c.Name) > 4 || strings.ToUpper(c.Name) != c.Name {
			t.Fatalf("bad name %q", c.Name)
		}
		// Re-parsing the formatted command gives the same command.
		again, err := ParseCommand([]byte(c.String()))
		if err != nil {
			t.Fatalf("reparse %q: %v", c.String(), err)
		}
		if again.Name != c.Name || strings.Join(again.Args, " ") != strings.Join(c.Args, " ") {
			t.Fatalf("round trip %q -> %q", c.String(), again.String())
		}
	})
}

func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{"+OK", "-ERR", "+OK 2 320", "-ERR [IN-USE] locked", "-ERR [SYS/TEMP/X] y", "-ERR [a]b", "+ok", "+ c2Vj"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := ParseResponse(line)
		if err != nil {
			return
		}
		again, err := ParseResponse([]byte(r.String()))
		if err != nil || again != r {
			t.Fatalf("round trip %q: %+v -> %+v (%v)", line, r, again, err)
		}
	})
}

// FuzzMultiLine checks the multi-line reader on arbitrary input and the
// writer-reader round trip on arbitrary content.
func FuzzMultiLine(f *testing.F) {
	for _, v := range dotVectors {
		f.Add([]byte(v.in), uint8(4))
	}
	f.Add([]byte("a\r\n.\r\nrest"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, max uint8) {
		// Arbitrary input as a server response body: no panic, bounded.
		dr := newDotReader(textline.NewReader(bytes.NewReader(data), int(max)+1))
		out, err := io.ReadAll(dr)
		if err == nil && len(out) > len(data) {
			t.Fatalf("read more than the input")
		}
		// Round trip: what the writer sends, the reader gets back, with
		// CRLF line ends, and WireSize predicts its length.
		var wire bytes.Buffer
		bw := bufio.NewWriter(&wire)
		w := newDotWriter(bw)
		w.Write(data)
		w.Close()
		bw.Flush()
		got, err := io.ReadAll(newDotReader(textline.NewReader(&wire, int(max)+1)))
		if err != nil {
			t.Fatalf("reading back: %v", err)
		}
		// The expected bytes: LF not after CR becomes CRLF, and a last line
		// without an end gets a CRLF.
		var want bytes.Buffer
		for i, c := range data {
			if c == '\n' && (i == 0 || data[i-1] != '\r') {
				want.WriteByte('\r')
			}
			want.WriteByte(c)
		}
		added := 0
		if len(data) > 0 && data[len(data)-1] != '\n' {
			want.WriteString("\r\n")
			added = 2
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("round trip of %q gave %q", data, got)
		}
		n, _ := WireSize(bytes.NewReader(data))
		if int(n) != len(got)-added {
			t.Fatalf("WireSize %d, got %d bytes", n, len(got))
		}
	})
}

// panicLog fails the fuzz target when the server logs a recovered panic.
type panicLog struct{ t *testing.T }

func (h panicLog) Enabled(context.Context, slog.Level) bool { return true }
func (h panicLog) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "panic") {
		h.t.Errorf("server: %s", r.Message)
		r.Attrs(func(a slog.Attr) bool { h.t.Errorf("  %s=%v", a.Key, a.Value); return true })
	}
	return nil
}
func (h panicLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h panicLog) WithGroup(string) slog.Handler      { return h }

// FuzzSession runs a whole server session on arbitrary client input.
func FuzzSession(f *testing.F) {
	for _, s := range []string{
		"USER alice\r\nPASS secret\r\nSTAT\r\nLIST\r\nRETR 1\r\nTOP 2 1\r\nDELE 1\r\nUIDL\r\nRSET\r\nQUIT\r\n",
		"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nLIST 2\r\nDELE 9\r\nQUIT\r\n",
		"AUTH LOGIN\r\nYWxpY2U=\r\nc2VjcmV0\r\nRETR 3\r\n",
		"AUTH\r\nCAPA\r\nAPOP alice 0123\r\nSTLS\r\n",
		"USER alice\nPASS secret\nRETR -1\nRETR 99999999999\nTOP 1 -1\n\x00\xff\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		b := newMemBackend()
		b.addUser("alice", "secret", msg1, msg2, msg3)
		srv := &Server{Backend: b, AllowInsecureAuth: true, Hostname: "fuzz", Limits: Limits{MaxErrors: 1000},
			Logger: slog.New(panicLog{t})}
		cn, sn := net.Pipe()
		c := srv.newConn(sn)
		require.NoError(t, srv.addConn(c))
		done := make(chan struct{})
		go func() { c.serve(); close(done) }()
		go io.Copy(io.Discard, cn)
		cn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		cn.Write(input)
		cn.Close()
		<-done
		// A session that did not QUIT deleted nothing, and the lock is gone.
		if !bytes.Contains(bytes.ToUpper(input), []byte("QUIT")) {
			require.Equal(t, 3, b.count("alice"))
		}
		require.False(t, b.isLocked("alice"))
	})
}

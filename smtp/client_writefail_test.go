package smtp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cutOffServer answers like a server that stops reading a message in the
// middle, replies and closes with the client's data still unread.
func cutOffServer(t *testing.T, ext string, reply string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				nc.SetDeadline(time.Now().Add(30 * time.Second))
				br := bufio.NewReader(nc)
				io.WriteString(nc, "220 cut.test ESMTP\r\n")
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					verb := strings.ToUpper(strings.Fields(line + " x")[0])
					switch verb {
					case "EHLO":
						io.WriteString(nc, "250-cut.test\r\n250-PIPELINING\r\n"+ext+"250 8BITMIME\r\n")
					case "MAIL", "RCPT":
						io.WriteString(nc, "250 Ok\r\n")
					case "DATA", "BDAT":
						if verb == "DATA" {
							io.WriteString(nc, "354 Go on\r\n")
						}
						// Take some of the message, then give up on it:
						// reply, half-close so that the reply is sure to
						// arrive, read a little more and close with the
						// client still sending, which resets the
						// connection under its writes.
						io.CopyN(io.Discard, br, 64<<10)
						io.WriteString(nc, reply)
						nc.(*net.TCPConn).CloseWrite()
						io.CopyN(io.Discard, br, 64<<10)
						return
					default:
						io.WriteString(nc, "250 Ok\r\n")
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

// TestClientReplyAfterWriteError: a client cut off while sending reports
// the server's reply, not the broken pipe.
func TestClientReplyAfterWriteError(t *testing.T) {
	msg := bytes.Repeat([]byte(strings.Repeat("x", 76)+"\r\n"), 16<<20/78)
	for _, tc := range []struct {
		name, ext, reply string
		code             int
	}{
		{"DATA 552", "", "552 5.3.4 Message too big for system\r\n", 552},
		{"DATA 421", "", "421 4.4.2 cut.test Error: timeout exceeded\r\n", 421},
		{"BDAT 552", "250-CHUNKING\r\n", "552 5.3.4 Message too big for system\r\n", 552},
		// Replies before the one that explains the close are skipped, up
		// to maxRepliesAfterWriteError of them; past that the write
		// error stands.
		{"DATA 552 after 5 replies", "", strings.Repeat("250 Ok\r\n", 5) + "552 5.3.4 Message too big for system\r\n", 552},
		{"DATA 552 after too many replies", "", strings.Repeat("250 Ok\r\n", maxRepliesAfterWriteError) + "552 5.3.4 Message too big for system\r\n", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := cutOffServer(t, tc.ext, tc.reply)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			for i := range 5 {
				c, err := Dial(ctx, addr, nil)
				require.NoError(t, err)
				_, err = c.Send(ctx, &Envelope{From: MustParseMailbox("a@a.test"), To: []Mailbox{MustParseMailbox("b@b.test")}}, bytes.NewReader(msg))
				checkCutOff(t, err, tc.code, i)
				c.Close()

				// The same through Data's writer.
				c, err = Dial(ctx, addr, nil)
				require.NoError(t, err)
				require.NoError(t, c.Mail(ctx, "a@a.test", nil))
				require.NoError(t, c.Rcpt(ctx, "b@b.test", nil))
				w, err := c.Data(ctx)
				require.NoError(t, err)
				_, err = w.Write(msg)
				if err == nil {
					err = w.Close()
				}
				checkCutOff(t, err, tc.code, i)
				c.Close()
			}
		})
	}
}

// checkCutOff checks the error of a client cut off while sending: the
// server's reply with code, or for code 0 the connection's own error.
func checkCutOff(t *testing.T, err error, code, run int) {
	t.Helper()
	require.Error(t, err)
	var e *Error
	if code == 0 {
		assert.False(t, errors.As(err, &e), "run %d: %v", run, err)
		return
	}
	require.True(t, errors.As(err, &e), "run %d: %v", run, err)
	assert.Equal(t, code, e.Code)
}

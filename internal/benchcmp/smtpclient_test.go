package benchcmp

import (
	"bufio"
	"bytes"
	"context"
	"net"
	netsmtp "net/smtp"
	"strings"
	"sync"
	"testing"

	gosmtp "github.com/emersion/go-smtp"
	"github.com/mailwire/mailwire/smtp"
)

// discardServer is a minimal SMTP server that accepts and discards every
// message. It offers PIPELINING and answers a group of pipelined commands
// with one write, as RFC 2920 §3.2 asks, so that a client that pipelines
// gets the benefit. All three clients talk to this same server.
type discardServer struct {
	ln net.Listener
	wg sync.WaitGroup
}

func newDiscardServer(tb testing.TB) *discardServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &discardServer{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				serveDiscard(conn)
			}()
		}
	}()
	tb.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func serveDiscard(conn net.Conn) {
	defer conn.Close()
	br := bufio.NewReaderSize(conn, 16<<10)
	bw := bufio.NewWriterSize(conn, 4<<10)
	bw.WriteString("220 bench.example.test ESMTP\r\n")
	bw.Flush()
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return
		}
		verb := strings.ToUpper(string(bytes.TrimRight(line[:min(4, len(line))], "\r\n")))
		switch verb {
		case "EHLO":
			bw.WriteString("250-bench.example.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n")
		case "HELO":
			bw.WriteString("250 bench.example.test\r\n")
		case "MAIL":
			bw.WriteString("250 2.1.0 Ok\r\n")
		case "RCPT":
			bw.WriteString("250 2.1.5 Ok\r\n")
		case "DATA":
			bw.WriteString("354 End data with <CR><LF>.<CR><LF>\r\n")
			bw.Flush()
			for {
				l, err := br.ReadSlice('\n')
				if err != nil && err != bufio.ErrBufferFull {
					return
				}
				if string(l) == ".\r\n" {
					break
				}
			}
			bw.WriteString("250 2.0.0 Ok: queued\r\n")
		case "RSET", "NOOP":
			bw.WriteString("250 2.0.0 Ok\r\n")
		case "QUIT":
			bw.WriteString("221 2.0.0 Bye\r\n")
			bw.Flush()
			return
		default:
			bw.WriteString("502 5.5.2 Error: command not recognized\r\n")
		}
		// Reply to a pipelined group in one write: flush only when the
		// client has nothing more in flight.
		if br.Buffered() == 0 {
			if bw.Flush() != nil {
				return
			}
		}
	}
}

// benchMessage is a 1 KB message.
var benchMessage = func() []byte {
	var b bytes.Buffer
	b.WriteString("From: alice@a.example.test\r\nTo: bob@b.example.test\r\nSubject: benchmark\r\nMessage-ID: <bench@a.example.test>\r\n\r\n")
	for b.Len() < 1024-2 {
		b.WriteString(strings.Repeat("x", min(70, 1024-2-b.Len())))
		b.WriteString("\r\n")
	}
	return b.Bytes()
}()

var benchRcpts = []string{"r1@b.example.test", "r2@b.example.test", "r3@b.example.test", "r4@b.example.test", "r5@b.example.test"}

// mwEnvelope is the benchmark's envelope for mailwire's client.
func mwEnvelope() *smtp.Envelope {
	env := &smtp.Envelope{From: smtp.MustParseMailbox(benchFrom)}
	for _, to := range benchRcpts {
		env.To = append(env.To, smtp.MustParseMailbox(to))
	}
	return env
}

const benchFrom = "alice@a.example.test"

// BenchmarkSMTPClient sends 1 KB messages to five recipients each over one
// connection to a discarding server on loopback.
func BenchmarkSMTPClient(b *testing.B) {
	s := newDiscardServer(b)
	addr := s.ln.Addr().String()

	b.Run("mailwire", func(b *testing.B) {
		ctx := context.Background()
		c, err := smtp.Dial(ctx, addr, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Quit(ctx)
		env := mwEnvelope()
		r := bytes.NewReader(benchMessage)
		b.SetBytes(int64(len(benchMessage)))
		b.ReportAllocs()
		for b.Loop() {
			r.Reset(benchMessage)
			if _, err := c.Send(ctx, env, r); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("netsmtp", func(b *testing.B) {
		c, err := netsmtp.Dial(addr)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Quit()
		if err := c.Hello("localhost"); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(benchMessage)))
		b.ReportAllocs()
		for b.Loop() {
			if err := c.Mail(benchFrom); err != nil {
				b.Fatal(err)
			}
			for _, to := range benchRcpts {
				if err := c.Rcpt(to); err != nil {
					b.Fatal(err)
				}
			}
			w, err := c.Data()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := w.Write(benchMessage); err != nil {
				b.Fatal(err)
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("gosmtp", func(b *testing.B) {
		c, err := gosmtp.Dial(addr)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Quit()
		if err := c.Hello("localhost"); err != nil {
			b.Fatal(err)
		}
		r := bytes.NewReader(benchMessage)
		b.SetBytes(int64(len(benchMessage)))
		b.ReportAllocs()
		for b.Loop() {
			r.Reset(benchMessage)
			if err := c.SendMail(benchFrom, benchRcpts, r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestDiscardServer checks that the benchmark's server answers what the
// clients expect, so that a broken server cannot make a benchmark lie.
func TestDiscardServer(t *testing.T) {
	s := newDiscardServer(t)
	ctx := context.Background()
	c, err := smtp.Dial(ctx, s.ln.Addr().String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Extension("PIPELINING"); !ok {
		t.Fatal("no PIPELINING")
	}
	res, err := c.Send(ctx, mwEnvelope(), bytes.NewReader(benchMessage))
	if err != nil || res.Delivered() != len(benchRcpts) {
		t.Fatalf("Send: %v, %+v", err, res)
	}
	if err := c.Quit(ctx); err != nil {
		t.Fatal(err)
	}
	if len(benchMessage) != 1024 {
		t.Fatalf("message is %d bytes", len(benchMessage))
	}
}

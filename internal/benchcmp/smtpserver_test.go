package benchcmp

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
	"github.com/mailwire/mailwire/internal/peer"
	"github.com/mailwire/mailwire/smtp"
)

// BenchmarkSMTPServer measures message throughput of mailwire's smtp.Server
// and go-smtp's server: concurrent clients on loopback send messages to a
// backend that reads and discards them. Both servers get the same clients:
// a minimal raw client that pipelines MAIL, RCPT and DATA (RFC 2920) and
// keeps its connection for many messages. b.N counts messages.
func BenchmarkSMTPServer(b *testing.B) {
	for _, size := range []int{1 << 10, 100 << 10} {
		msg := srvBenchMessage(size)
		for _, clients := range []int{8} {
			for _, impl := range []struct {
				name  string
				start func(testing.TB) string
			}{
				{"mailwire", startMailwireDiscard},
				{"gosmtp", startGoSMTPDiscard},
			} {
				name := fmt.Sprintf("size=%dKB/clients=%d/impl=%s", size>>10, clients, impl.name)
				b.Run(name, func(b *testing.B) {
					addr := impl.start(b)
					b.SetBytes(int64(len(msg)))
					b.ReportAllocs()
					b.ResetTimer()
					// CPU time per message counts client and server,
					// both in this process.
					stop := reportCPU(b)
					if err := srvBenchRun(addr, clients, b.N, msg); err != nil {
						b.Fatal(err)
					}
					stop()
				})
			}
		}
	}
}

// srvBenchMessage returns a message of about size bytes, CRLF lines of 76
// characters, some starting with a dot.
func srvBenchMessage(size int) []byte {
	var buf bytes.Buffer
	buf.WriteString("From: <alice@a.test>\r\nTo: <bob@b.test>\r\nSubject: bench\r\n\r\n")
	line := strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyz", 3)[:76]
	for i := 0; buf.Len() < size; i++ {
		if i%10 == 0 {
			buf.WriteString(".")
		}
		buf.WriteString(line)
		buf.WriteString("\r\n")
	}
	return buf.Bytes()
}

// srvBenchRun sends n messages to addr over clients connections.
func srvBenchRun(addr string, clients, n int, msg []byte) error {
	// Dot-stuff once: the client cost is the same for both servers.
	var stuffed bytes.Buffer
	w := smtp.NewDotWriter(&stuffed)
	w.Write(msg)
	w.Close()
	var left atomic.Int64
	left.Store(int64(n))
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srvBenchClient(addr, &left, stuffed.Bytes()); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func srvBenchClient(addr string, left *atomic.Int64, data []byte) error {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Minute))
	br := bufio.NewReader(nc)
	bw := bufio.NewWriterSize(nc, 32<<10)
	expect := func(code int) error {
		rep, err := smtp.ReadReply(br)
		if err != nil {
			return err
		}
		if rep.Code != code {
			return fmt.Errorf("got %d %s, want %d", rep.Code, rep.Message(), code)
		}
		return nil
	}
	if err := expect(220); err != nil {
		return err
	}
	bw.WriteString("EHLO bench.test\r\n")
	bw.Flush()
	if err := expect(250); err != nil {
		return err
	}
	for left.Add(-1) >= 0 {
		bw.WriteString("MAIL FROM:<alice@a.test>\r\nRCPT TO:<bob@b.test>\r\nDATA\r\n")
		bw.Flush()
		for _, code := range []int{250, 250, 354} {
			if err := expect(code); err != nil {
				return err
			}
		}
		bw.Write(data)
		bw.Flush()
		if err := expect(250); err != nil {
			return err
		}
	}
	bw.WriteString("QUIT\r\n")
	bw.Flush()
	return expect(221)
}

// mailwire: a discarding backend.
type mwDiscard struct{}

func (mwDiscard) Mail(context.Context, smtp.Mailbox, *smtp.MailOptions) error { return nil }
func (mwDiscard) Rcpt(context.Context, smtp.Mailbox, *smtp.RcptOptions) error { return nil }
func (mwDiscard) Data(_ context.Context, r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}
func (mwDiscard) Reset(context.Context) {}
func (mwDiscard) Close() error          { return nil }

func startMailwireDiscard(tb testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &smtp.Server{
		Hostname: "bench.test",
		Limits:   smtp.Limits{MaxMessageBytes: 1 << 30},
		Backend: smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
			return mwDiscard{}, nil
		}),
	}
	go srv.Serve(l)
	tb.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// go-smtp: the same discarding backend.
type gsDiscard struct{}

func (gsDiscard) Mail(string, *gosmtp.MailOptions) error { return nil }
func (gsDiscard) Rcpt(string, *gosmtp.RcptOptions) error { return nil }
func (gsDiscard) Data(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}
func (gsDiscard) Reset()        {}
func (gsDiscard) Logout() error { return nil }

func startGoSMTPDiscard(tb testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(*gosmtp.Conn) (gosmtp.Session, error) {
		return gsDiscard{}, nil
	}))
	srv.Domain = "bench.test"
	srv.MaxMessageBytes = 1 << 30
	go srv.Serve(l)
	tb.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// TestSMTPServerBenchClient checks the benchmark client against both servers.
func TestSMTPServerBenchClient(t *testing.T) {
	msg := srvBenchMessage(2048)
	for _, start := range []func(testing.TB) string{startMailwireDiscard, startGoSMTPDiscard} {
		if err := srvBenchRun(start(t), 3, 20, msg); err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkSMTPSource drives Postfix's smtp-source load generator into
// mailwire's server and into Postfix's smtp-sink, a C server that accepts and
// discards everything: messages/s of each can be read off one run. b.N counts
// messages (1 KB, 20 sessions; a connection per message, as smtp-source does
// without -d, or connections kept for many messages with -d).
func BenchmarkSMTPSource(b *testing.B) {
	source := peer.Path(b, "smtp-source")
	sink := peer.Path(b, "smtp-sink")
	for _, mode := range []string{"conn-per-msg", "reuse"} {
		for _, impl := range []string{"mailwire", "smtpsink"} {
			b.Run("mode="+mode+"/impl="+impl, func(b *testing.B) {
				var addr string
				if impl == "mailwire" {
					addr = startMailwireDiscard(b)
				} else {
					addr = peer.Addr(peer.FreePort(b))
					cmd := exec.Command(sink, "-u", "nobody", addr, "256")
					if err := cmd.Start(); err != nil {
						b.Fatal(err)
					}
					b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
					peer.WaitListening(b, addr, 10*time.Second)
				}
				b.ResetTimer()
				args := []string{"-c", "-l", "1024", "-s", "20", "-m", strconv.Itoa(b.N), "-f", "a@a.test", "-t", "b@b.test"}
				if mode == "reuse" {
					args = append(args, "-d")
				}
				out, err := peer.RunErr(10*time.Minute, nil, source, append(args, addr)...)
				if err != nil {
					b.Fatalf("%v\n%s", err, out)
				}
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			})
		}
	}
}

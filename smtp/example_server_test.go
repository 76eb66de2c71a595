package smtp_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"

	"github.com/mailwire/mailwire/smtp"
)

// printSession writes each transaction it receives to a log.
type printSession struct {
	mu  *sync.Mutex
	log *strings.Builder
}

func (s printSession) printf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.log, format, args...)
}

func (s printSession) Mail(_ context.Context, from smtp.Mailbox, opts *smtp.MailOptions) error {
	s.printf("MAIL FROM:%s\n", from.Path())
	return nil
}

func (s printSession) Rcpt(_ context.Context, to smtp.Mailbox, opts *smtp.RcptOptions) error {
	if to.Domain != "example.org" {
		return smtp.ErrRelayDenied // no open relay
	}
	s.printf("RCPT TO:%s\n", to.Path())
	return nil
}

func (s printSession) Data(_ context.Context, r io.Reader) error {
	b, err := io.ReadAll(r) // a real backend streams it to durable storage
	if err != nil {
		return err
	}
	s.printf("DATA %q\n", b)
	return nil
}

func (printSession) Reset(context.Context) {}
func (printSession) Close() error          { return nil }

// A server whose Backend prints what it receives.
func ExampleServer() {
	var (
		mu  sync.Mutex
		log strings.Builder
	)
	srv := &smtp.Server{
		Hostname: "mx.example.org",
		Backend: smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
			return printSession{&mu, &log}, nil
		}),
		Limits: smtp.Limits{MaxMessageBytes: 10 << 20},
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go srv.Serve(l)
	defer srv.Close()

	// A client speaking the protocol by hand, pipelining its commands.
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		panic(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	read := func(n int) {
		for range n {
			rep, err := smtp.ReadReply(br)
			if err != nil {
				panic(err)
			}
			fmt.Println("S:", rep.Code, rep.EnhancedCode.String(), strings.Split(rep.Message(), "\n")[0])
		}
	}
	read(1)
	io.WriteString(c, "EHLO client.example.com\r\n"+
		"MAIL FROM:<alice@example.com>\r\n"+
		"RCPT TO:<bob@example.org>\r\n"+
		"RCPT TO:<carol@example.net>\r\n"+
		"DATA\r\n")
	read(5)
	io.WriteString(c, "Subject: hello\r\n\r\nHi Bob.\r\n.\r\nQUIT\r\n")
	read(2)

	mu.Lock()
	fmt.Print(log.String())
	mu.Unlock()
	// Output:
	// S: 220  mx.example.org ESMTP Service ready
	// S: 250  mx.example.org greets client.example.com
	// S: 250 2.1.0 Ok
	// S: 250 2.1.5 Ok
	// S: 554 5.7.1 Relay access denied
	// S: 354  End data with <CR><LF>.<CR><LF>
	// S: 250 2.0.0 Ok: queued
	// S: 221 2.0.0 mx.example.org Service closing transmission channel
	// MAIL FROM:<alice@example.com>
	// RCPT TO:<bob@example.org>
	// DATA "Subject: hello\r\n\r\nHi Bob.\r\n"
}

func ExampleDotWriter() {
	var b strings.Builder
	w := smtp.NewDotWriter(&b)
	io.WriteString(w, "Subject: dots\n\n.a line starting with a dot\nno final line end")
	w.Close()
	fmt.Printf("%q\n", b.String())
	// Output:
	// "Subject: dots\r\n\r\n..a line starting with a dot\r\nno final line end\r\n.\r\n"
}

func ExampleParsePath() {
	for _, p := range []string{"<alice@example.org>", "<>", `<"john doe"@[192.0.2.1]>`, "<@relay.example:bob@example.org>", "<用户@例子.广告>"} {
		m, err := smtp.ParsePath(p, false)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%q %q null=%v\n", m.Local, m.Domain, m.IsNull())
	}
	// Output:
	// "alice" "example.org" null=false
	// "" "" null=true
	// "john doe" "[192.0.2.1]" null=false
	// "bob" "example.org" null=false
	// smtp: malformed path: malformed local part "用户"
}

func ExampleError() {
	var err error = fmt.Errorf("delivering: %w", &smtp.Error{
		Code: 452, EnhancedCode: smtp.EnhancedCode{Class: 4, Subject: 2, Detail: 2}, Message: "Mailbox full",
	})
	var e *smtp.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code, e.EnhancedCode, e.Temporary())
	}
	fmt.Printf("%q\n", smtp.FormatReply(e.Code, e.EnhancedCode, "Mailbox full\ntry again later"))
	// Output:
	// 452 4.2.2 true
	// "452-4.2.2 Mailbox full\r\n452 4.2.2 try again later\r\n"
}

package smtp_test

import (
	"bufio"
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

func (s printSession) Mail(from smtp.Mailbox, opts *smtp.MailOptions) error {
	s.printf("MAIL FROM:%s\n", from.Path())
	return nil
}

func (s printSession) Rcpt(to smtp.Mailbox, opts *smtp.RcptOptions) error {
	if to.Domain != "example.org" {
		return smtp.ErrRelayDenied // no open relay
	}
	s.printf("RCPT TO:%s\n", to.Path())
	return nil
}

func (s printSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r) // a real backend streams it to durable storage
	if err != nil {
		return err
	}
	s.printf("DATA %q\n", b)
	return nil
}

func (printSession) Reset()        {}
func (printSession) Logout() error { return nil }

// A server whose Backend prints what it receives.
func ExampleServer() {
	var (
		mu  sync.Mutex
		log strings.Builder
	)
	srv := &smtp.Server{
		Domain: "mx.example.org",
		Backend: smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
			return printSession{&mu, &log}, nil
		}),
		MaxMessageBytes: 10 << 20,
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

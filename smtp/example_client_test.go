package smtp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"strings"
	"time"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/smtp"
	"github.com/mailwire/mailwire/smtp/smtptest"
)

// Sending a message with a Client: STARTTLS, AUTH, then one transaction with
// a result per recipient. The server here is an smtptest.Server that refuses
// one recipient.
func ExampleClient_Send() {
	srv := smtptest.NewServer(nil,
		smtptest.WithSTARTTLS(),
		smtptest.WithAuth("alice", "secret"),
		smtptest.WithRcptHook(func(to string) error {
			if to == "nobody@example.org" {
				return smtp.ErrNoSuchUser
			}
			return nil
		}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := smtp.DialStartTLS(ctx, srv.Addr, &smtp.ClientOptions{
		LocalName: "client.example.com",
		TLSConfig: srv.ClientTLSConfig(), // normally nil: the system's roots
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(ctx, auth.NewPlainClient("", "alice", "secret")); err != nil {
		log.Fatal(err)
	}

	msg := "From: alice@example.com\r\nTo: bob@example.org\r\nSubject: Hello\r\n\r\nHi Bob.\r\n"
	res, err := c.Send(ctx, &smtp.Envelope{
		From: smtp.MustParseMailbox("alice@example.com"),
		To:   []smtp.Mailbox{smtp.MustParseMailbox("bob@example.org"), smtp.MustParseMailbox("nobody@example.org")},
	}, strings.NewReader(msg))
	var de *smtp.DeliveryError
	if errors.As(err, &de) {
		fmt.Printf("delivered to %d, failed for %d\n", de.Delivered, len(de.Failed))
	} else if err != nil {
		log.Fatal(err)
	}
	for _, r := range res.Rcpts {
		var e *smtp.Error
		if errors.As(r.Err, &e) {
			fmt.Printf("%s: %d %s %s\n", r.Addr, e.Code, e.EnhancedCode, e.Message)
		} else {
			fmt.Printf("%s: ok\n", r.Addr)
		}
	}
	if err := c.Quit(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("server got %q\n", srv.Messages()[0].Data[len(msg)-9:])
	// Output:
	// delivered to 1, failed for 1
	// bob@example.org: ok
	// nobody@example.org: 550 5.1.1 No such user
	// server got "Hi Bob.\r\n"
}

// The one-call form: SendMail dials, uses STARTTLS when offered,
// authenticates when given a mechanism, sends and quits.
func ExampleSendMail() {
	srv := smtptest.NewServer(nil)
	defer srv.Close()

	err := smtp.SendMail(context.Background(), srv.Addr, nil,
		"alice@example.com", []string{"bob@example.org"},
		strings.NewReader("Subject: Hello\r\n\r\nHi Bob.\r\n"))
	if err != nil {
		log.Fatal(err)
	}
	m := srv.Messages()[0]
	fmt.Println(m.From, m.To)
	// Output: alice@example.com [bob@example.org]
}

// Mail, Rcpt and Data run one command at a time; Data returns a writer that
// dot-stuffs the message (or sends BDAT chunks when the server offers
// CHUNKING). Errors carry the server's reply code.
func ExampleClient_Data() {
	srv := smtptest.NewServer(nil)
	defer srv.Close()
	ctx := context.Background()

	c, err := smtp.Dial(ctx, srv.Addr, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail(ctx, "alice@example.com", &smtp.MailOptions{Body: smtp.Body8BitMIME}); err != nil {
		log.Fatal(err)
	}
	if err := c.Rcpt(ctx, "bob@example.org", nil); err != nil {
		log.Fatal(err)
	}
	w, err := c.Data(ctx)
	if err != nil {
		log.Fatal(err)
	}
	io.WriteString(w, "Subject: Hello\n\n.A line starting with a dot.\n")
	if err := w.Close(); err != nil {
		var e *smtp.Error
		if errors.As(err, &e) {
			log.Fatalf("refused: %d %s", e.Code, e.Message)
		}
		log.Fatal(err)
	}
	c.Quit(ctx)
	fmt.Printf("%q\n", srv.Messages()[0].Data)
	// Output: "Subject: Hello\r\n\r\n.A line starting with a dot.\r\n"
}

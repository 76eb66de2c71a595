package pop3maildir_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/mailwire/mailwire/message/maildir"
	"github.com/mailwire/mailwire/pop3/pop3maildir"
)

func ExampleOpen() {
	base, err := os.MkdirTemp("", "pop3maildir-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(base)

	// The delivery agent stores a message with LF line ends.
	d, err := maildir.Create(filepath.Join(base, "Maildir"))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := d.Deliver(strings.NewReader("Subject: hi\n\nHello, Bob.\n")); err != nil {
		log.Fatal(err)
	}

	// A pop3.Session's OpenMaildrop returns pop3maildir.Open(d) for the
	// user's Maildir; the server then drives it as below.
	ctx := context.Background()
	drop, err := pop3maildir.Open(d)
	if err != nil {
		log.Fatal(err) // wraps pop3.ErrInUse if another session has it
	}
	defer drop.Close()
	msgs, err := drop.Messages(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for i, m := range msgs {
		rc, err := drop.Open(ctx, i)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(rc)
		rc.Close()
		fmt.Printf("%d: %d octets on the wire, %d stored, UIDL of %d characters\n", i+1, m.Size, len(body), len(m.UID))
	}
	// Output:
	// 1: 28 octets on the wire, 25 stored, UIDL of 16 characters
}

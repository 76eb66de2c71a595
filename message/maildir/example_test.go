package maildir_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/mailwire/mailwire/message/maildir"
)

func Example() {
	base, err := os.MkdirTemp("", "maildir-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(base)

	// The delivery agent.
	d, err := maildir.Create(filepath.Join(base, "Maildir"))
	if err != nil {
		log.Fatal(err)
	}
	key, err := d.Deliver(strings.NewReader("Subject: hello\n\nHi Bob.\n"))
	if err != nil {
		log.Fatal(err)
	}

	// A POP3 or IMAP server.
	msgs, err := d.List()
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range msgs {
		fmt.Println(m.UID, m.Size, m.New, m.Key == key)
	}
	if err := d.SetFlags(key, maildir.NewFlags(maildir.FlagSeen)); err != nil {
		log.Fatal(err)
	}
	f, err := d.Open(key)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	body, _ := io.ReadAll(f)
	fmt.Printf("%q\n", body)
	flags, _ := d.Flags(key)
	fmt.Println(flags, flags.Has(maildir.FlagSeen))
	// Output:
	// 1 24 true true
	// "Subject: hello\n\nHi Bob.\n"
	// S true
}

func ExampleDir_CreateFolder() {
	base, err := os.MkdirTemp("", "maildir-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(base)
	d, err := maildir.Create(base)
	if err != nil {
		log.Fatal(err)
	}
	for _, name := range []string{"Sent", "Trash", "Archive/2024"} {
		if _, err := d.CreateFolder(name); err != nil {
			log.Fatal(err)
		}
	}
	names, _ := d.Folders()
	fmt.Println(names)
	// Output:
	// [Archive/2024 Sent Trash]
}

func ExampleParseName() {
	n, err := maildir.ParseName("1700000000.M1P2.mx,S=1234,W=1260:2,FSa")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n.Key, n.Size, n.WireSize, n.Flags, n.Flags.Keywords())
	// Output:
	// 1700000000.M1P2.mx,S=1234,W=1260 1234 1260 FSa a
}

func ExampleWireSize() {
	// Two lines stored with LF end: each LF counts as CRLF.
	n, err := maildir.WireSize(strings.NewReader("Subject: hi\n\nbody\n"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n)
	// Output: 21
}

func ExampleDir_TryLock() {
	base, err := os.MkdirTemp("", "maildir-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(base)
	d, err := maildir.Create(filepath.Join(base, "Maildir"))
	if err != nil {
		log.Fatal(err)
	}

	// A POP3 session takes the session lock for its whole length.
	l, err := d.TryLock()
	if err != nil {
		log.Fatal(err)
	}
	_, err = d.TryLock()
	fmt.Println("second session:", errors.Is(err, maildir.ErrLocked))
	if err := l.Unlock(); err != nil {
		log.Fatal(err)
	}
	l, err = d.TryLock()
	fmt.Println("after unlock:", err)
	l.Unlock()
	// Output:
	// second session: true
	// after unlock: <nil>
}

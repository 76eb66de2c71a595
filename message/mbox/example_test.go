package mbox_test

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mailwire/mailwire/message/maildir"
	"github.com/mailwire/mailwire/message/mbox"
)

func Example() {
	var file bytes.Buffer
	w := mbox.NewWriter(&file)
	date := time.Date(2026, 11, 4, 3, 4, 5, 0, time.UTC)
	for _, body := range []string{"Subject: one\n\nFrom here on, quoted.\n", "Subject: two\n\nHi.\n"} {
		if err := w.WriteMessage("alice@example.test", date, strings.NewReader(body)); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	fmt.Print(file.String())

	r := mbox.NewReader(&file)
	for {
		m, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		b, _ := io.ReadAll(m)
		fmt.Printf("%s %s %q\n", m.Sender, m.Date.Format(time.RFC3339), b)
	}
	// Output:
	// From alice@example.test Wed Nov  4 03:04:05 2026
	// Subject: one
	//
	// >From here on, quoted.
	//
	// From alice@example.test Wed Nov  4 03:04:05 2026
	// Subject: two
	//
	// Hi.
	//
	// alice@example.test 2026-11-04T03:04:05Z "Subject: one\n\nFrom here on, quoted.\n"
	// alice@example.test 2026-11-04T03:04:05Z "Subject: two\n\nHi.\n"
}

func ExampleReader_ContentLength() {
	// An mbox as Dovecot writes it: no quoting, Content-Length instead.
	in := "From a@example.test Wed Nov  4 03:04:05 2026\nContent-Length: 22\n\nFrom is not a border.\n\n"
	r := mbox.NewReader(strings.NewReader(in))
	r.ContentLength = true
	m, err := r.Next()
	if err != nil {
		log.Fatal(err)
	}
	b, _ := io.ReadAll(m)
	fmt.Printf("%q\n", b)
	// Output:
	// "Content-Length: 22\n\nFrom is not a border.\n"
}

func ExampleToMaildir() {
	base, err := os.MkdirTemp("", "mbox-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(base)
	d, err := maildir.Create(filepath.Join(base, "Maildir"))
	if err != nil {
		log.Fatal(err)
	}
	in := "From a@example.test Wed Nov  4 03:04:05 2026\nSubject: read\nStatus: RO\n\nx\n\n" +
		"From b@example.test Wed Nov  4 04:04:05 2026\nSubject: unread\n\ny\n"
	n, err := mbox.ToMaildir(d, mbox.NewReader(strings.NewReader(in)))
	if err != nil {
		log.Fatal(err)
	}
	msgs, _ := d.List()
	fmt.Println(n, "messages")
	for _, m := range msgs {
		fmt.Printf("UID %d flags %q date %s\n", m.UID, m.Flags, m.Date.UTC().Format(time.RFC3339))
	}
	// Output:
	// 2 messages
	// UID 1 flags "S" date 2026-11-04T03:04:05Z
	// UID 2 flags "" date 2026-11-04T04:04:05Z
}

func ExampleAppend() {
	dir, err := os.MkdirTemp("", "mbox-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "inbox")
	// Locks path.lock and the file, appends, fsyncs, unlocks.
	if err := mbox.Append(path, "bob@example.test", time.Now(), strings.NewReader("Subject: hi\n\nFrom Bob.\n")); err != nil {
		log.Fatal(err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	m, _ := mbox.NewReader(f).Next()
	b, _ := io.ReadAll(m)
	fmt.Printf("%s %q\n", m.Sender, b)
	// Output:
	// bob@example.test "Subject: hi\n\nFrom Bob.\n"
}

package mime_test

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/mailwire/mailwire/mime"
)

const exampleMessage = "From: alice@example.org\r\n" +
	"Subject: report\r\n" +
	"Content-Type: multipart/mixed; boundary=XYZ\r\n" +
	"\r\n" +
	"--XYZ\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"The report is attached.\r\n" +
	"--XYZ\r\n" +
	"Content-Type: text/csv\r\n" +
	"Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.csv\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"YSxiCjEsMgo=\r\n" +
	"--XYZ--\r\n"

// Read a message and save its attachments into a directory.
func ExampleWalk() {
	dir, err := os.MkdirTemp("", "attachments")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	err = mime.Walk(strings.NewReader(exampleMessage), func(p *mime.Part) error {
		if !p.IsAttachment() {
			return nil
		}
		name := p.Filename() // already reduced to a safe base name
		if name == "" {
			name = "part-" + p.Path.String()
		}
		// O_EXCL: a second attachment of the same name, or a name
		// already present, must not overwrite a file.
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		n, err := io.Copy(f, p.Body()) // streams, decoded
		fmt.Printf("part %s: %s, %s, %d bytes\n", p.Path, p.MediaType, name, n)
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// part 2: text/csv, résumé.csv, 8 bytes
}

// Compose a mail with an HTML body, its plain text alternative and an
// attachment.
func ExampleMail() {
	m := &mime.Mail{
		Text: "Hello Bob,\nthe figures are attached.\n",
		HTML: "<p>Hello Bob,</p><p>the figures are attached.</p>",
		Attachments: []mime.Attachment{
			{Filename: "figures.csv", Data: []byte("year,total\n2026,42\n")},
		},
	}
	m.Header.Add("From", "Alice <alice@example.org>")
	m.Header.Add("To", "Bob <bob@example.com>")
	m.Header.Add("Subject", "Figures for 2026")
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		log.Fatal(err)
	}

	// Read it back.
	mime.Walk(&buf, func(p *mime.Part) error {
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%-5s %s %s", p.Path, p.MediaType, p.Filename())))
		return nil
	})
	// Output:
	// multipart/mixed
	// 1     multipart/alternative
	// 1.1   text/plain
	// 1.2   text/html
	// 2     text/csv figures.csv
}

func ExampleParseMediaType() {
	mt, err := mime.ParseMediaType("application/x-stuff;\r\n" +
		" title*0*=us-ascii'en'This%20is%20even%20more%20;\r\n" +
		" title*1*=%2A%2A%2Afun%2A%2A%2A%20;\r\n" +
		" title*2=\"isn't it!\"")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(mt)
	fmt.Println(mt.Params["title"])
	fmt.Println(mt.Languages["title"])
	// Output:
	// application/x-stuff
	// This is even more ***fun*** isn't it!
	// en
}

func ExampleReadStructure() {
	s, err := mime.ReadStructure(strings.NewReader(exampleMessage))
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range s.Children {
		fmt.Println(c.Path, c.Type+"/"+c.Subtype, c.Encoding, c.Size, c.Lines, c.Disposition != "")
	}
	// Output:
	// 1 text/plain 7bit 23 0 false
	// 2 text/csv base64 12 0 true
}

func ExampleTo7bit() {
	msg := "Subject: hi\r\nContent-Type: text/plain; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: 8bit\r\n\r\nGrüße\r\n"
	var out bytes.Buffer
	if err := mime.To7bit(&out, strings.NewReader(msg)); err != nil {
		log.Fatal(err)
	}
	fmt.Print(strings.ReplaceAll(out.String(), "\r\n", "\n"))
	// Output:
	// Subject: hi
	// Content-Type: text/plain; charset=utf-8
	// Content-Transfer-Encoding: quoted-printable
	//
	// Gr=C3=BC=C3=9Fe
}

func ExampleAnalyze() {
	s, _ := mime.Analyze(strings.NewReader("plain ascii\r\nwith a very long line follows\r\n" + strings.Repeat("x", 1200)))
	fmt.Println(s.Is7bit(), s.LongestLine, s.Encoding(true, false))
	// Output: false 1200 quoted-printable
}

// The built-in table gives the same answer on every host.
func ExampleTypeByFilename() {
	for _, name := range []string{"go.mod", "Report.PDF", "photo.heic", "slides.pptx", "Makefile"} {
		fmt.Printf("%s: %q\n", name, mime.TypeByFilename(name))
	}
	// Output:
	// go.mod: "text/plain"
	// Report.PDF: "application/pdf"
	// photo.heic: "image/heic"
	// slides.pptx: "application/vnd.openxmlformats-officedocument.presentationml.presentation"
	// Makefile: ""
}

// A part with a broken or hostile header does not stop the walk: it comes
// with its defects, and the other parts are read as usual.
func ExampleWalk_defects() {
	msg := "Content-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nfirst\r\n" +
		"--b\r\nContent-Type: text/plain\r\n" + strings.Repeat("X-Spam: yes\r\n", 5000) + "\r\nsecond\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nthird\r\n" +
		"--b--\r\n"
	err := mime.Walk(strings.NewReader(msg), func(p *mime.Part) error {
		body, err := io.ReadAll(p.Body())
		if err != nil {
			return err
		}
		fmt.Printf("part %q %s %q, %d fields\n", p.Path, p.MediaType, body, p.Header.Len())
		for _, d := range p.Defects {
			fmt.Println("  defect:", d)
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// part "" multipart/mixed "", 1 fields
	// part "1" text/plain "first", 1 fields
	// part "2" text/plain "second", 1000 fields
	//   defect: bad header: line 1001: too many header fields; 1000 fields kept, 52013 bytes skipped
	// part "3" text/plain "third", 1 fields
}

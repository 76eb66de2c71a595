// Command msginfo prints what package message makes of a message: its header
// fields, the parsed addresses, date, message IDs and trace fields, any
// problems found, and the top-level MIME structure.
//
// Usage:
//
//	go run ./examples/msginfo FILE
//	go run ./examples/msginfo < FILE
package main

import (
	"bufio"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/mailwire/mailwire/message"
)

func main() {
	var in io.Reader = os.Stdin
	if len(os.Args) > 2 {
		fmt.Fprintln(os.Stderr, "usage: msginfo [FILE]")
		os.Exit(2)
	}
	if len(os.Args) == 2 && os.Args[1] != "-" {
		f, err := os.Open(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer f.Close()
		in = f
	}
	if err := run(os.Stdout, in); err != nil {
		fmt.Fprintln(os.Stderr, "msginfo:", err)
		os.Exit(1)
	}
}

func run(out io.Writer, in io.Reader) error {
	// The message is untrusted: its text must not drive the terminal.
	w := &safeWriter{w: out}
	m, err := message.Read(in)
	if err != nil {
		return err
	}
	h := &m.Header

	fmt.Fprintf(w, "Header (%d fields):\n", h.Len())
	for name, value := range h.All() {
		if d, err := message.DecodeWords(value); err == nil {
			value = d
		}
		fmt.Fprintf(w, "  %s: %s\n", name, shorten(value, 200))
	}

	fmt.Fprintln(w, "\nAddresses:")
	for _, name := range []string{"From", "Sender", "Reply-To", "To", "Cc", "Bcc"} {
		for _, v := range h.Values(name) {
			list, err := message.ParseAddressList(v)
			if err != nil {
				fmt.Fprintf(w, "  %s: error: %v\n", name, err)
				continue
			}
			for _, a := range list {
				if a.IsGroup {
					fmt.Fprintf(w, "  %s: group %q (%d members)\n", name, a.Name, len(a.Members))
					for _, mb := range a.Members {
						fmt.Fprintf(w, "  %s:   %q <%s>\n", name, mb.Name, mb.Addr)
					}
					continue
				}
				fmt.Fprintf(w, "  %s: %q <%s>\n", name, a.Name, a.Addr)
			}
		}
	}

	if v := h.Get("Date"); v != "" {
		if d, err := message.ParseDate(v); err != nil {
			fmt.Fprintf(w, "\nDate: error: %v\n", err)
		} else {
			fmt.Fprintf(w, "\nDate: %s (UTC %s)\n", message.FormatDate(d), d.UTC().Format("2006-01-02 15:04:05"))
		}
	}
	if v := h.Get("Message-ID"); v != "" {
		id, err := message.ParseMessageID(v)
		fmt.Fprintf(w, "Message-ID: %s %v\n", id, errText(err))
	}
	for _, name := range []string{"In-Reply-To", "References"} {
		if v := h.Get(name); v != "" {
			fmt.Fprintf(w, "%s: %s\n", name, strings.Join(message.ParseMessageIDList(v), " "))
		}
	}
	if rs := h.Values("Received"); len(rs) > 0 {
		fmt.Fprintf(w, "\nTrace (%d hops, newest first):\n", len(rs))
		for _, v := range rs {
			r, err := message.ParseReceived(v)
			fmt.Fprintf(w, "  from %s by %s with %s at %s %s\n", r.From, r.By, r.With, r.Date.UTC().Format("2006-01-02 15:04:05"), errText(err))
		}
	}

	problems := message.Validate(h)
	if len(problems) > 0 {
		fmt.Fprintln(w, "\nProblems:")
		for _, p := range problems {
			fmt.Fprintf(w, "  %v\n", p)
		}
	}

	fmt.Fprintln(w, "\nStructure:")
	return structure(w, h.Get("Content-Type"), m.Body)
}

// structure prints the top-level MIME structure: the media type, and for a
// multipart body each part's type and size.
func structure(w io.Writer, ct string, body io.Reader) error {
	if ct == "" {
		ct = "text/plain; charset=us-ascii"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		fmt.Fprintf(w, "  %s (unparsable: %v)\n", ct, err)
		return nil
	}
	if !strings.HasPrefix(mt, "multipart/") || params["boundary"] == "" {
		n, err := io.Copy(io.Discard, body)
		fmt.Fprintf(w, "  %s, %d bytes\n", mt, n)
		return err
	}
	fmt.Fprintf(w, "  %s\n", mt)
	mr := multipart.NewReader(bufio.NewReader(body), params["boundary"])
	for i := 1; ; i++ {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			fmt.Fprintf(w, "  part %d: error: %v\n", i, err)
			return nil
		}
		n, _ := io.Copy(io.Discard, p)
		pt := p.Header.Get("Content-Type")
		if pt == "" {
			pt = "text/plain"
		}
		extra := ""
		if fn := p.FileName(); fn != "" {
			extra = fmt.Sprintf(", file %q", fn)
		}
		fmt.Fprintf(w, "  part %d: %s, %d bytes%s\n", i, shorten(pt, 80), n, extra)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return "(" + err.Error() + ")"
}

// shorten cuts s to about n bytes, at a character boundary.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// safeWriter replaces control characters other than newline and tab, C1
// controls written as UTF-8 included, with '?', so that a hostile message
// cannot send escape sequences to the terminal.
type safeWriter struct {
	w   io.Writer
	buf []byte
}

func (s *safeWriter) Write(p []byte) (int, error) {
	s.buf = s.buf[:0]
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\n' || c == '\t':
		case c < ' ' || c == 0x7f:
			c = '?'
		case c == 0xc2 && i+1 < len(p) && p[i+1] >= 0x80 && p[i+1] <= 0x9f:
			i++
			c = '?'
		}
		s.buf = append(s.buf, c)
	}
	if _, err := s.w.Write(s.buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

package imapwire_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/imap/imapwire"
)

// A client reads server responses; body sections stream to a callback.
func ExampleReadResponse() {
	in := "* 3 EXISTS\r\n" +
		"* 1 FETCH (UID 42 FLAGS (\\Seen) BODY[TEXT] {12}\r\nHello world!)\r\n" +
		"a1 OK [READ-ONLY] done\r\n"
	d := imapwire.NewDecoder(bufio.NewReader(strings.NewReader(in)), imapwire.Limits{})
	opts := &imapwire.ResponseOptions{
		Section: func(seq uint32, it imap.FetchItem, r io.Reader, size int64) error {
			fmt.Printf("message %d %s, %d bytes: ", seq, it.ResponseName(), size)
			_, err := io.Copy(os.Stdout, r)
			fmt.Println()
			return err
		},
	}
	for {
		r, err := imapwire.ReadResponse(d, opts)
		if err != nil {
			break
		}
		switch r := r.(type) {
		case *imapwire.NumData:
			fmt.Println(r.Num, r.Kind)
		case *imapwire.FetchData:
			fmt.Println("UID", r.UID, "flags", r.Flags)
		case *imap.StatusResponse:
			fmt.Println(r.Tag, r.Type, r.Code, r.Text)
		}
	}
	// Output:
	// 3 EXISTS
	// message 1 BODY[TEXT], 12 bytes: Hello world!
	// UID 42 flags [\Seen]
	// a1 OK READ-ONLY done
}

// A server reads a command's tag and name, then its arguments; the
// synchronising-literal hook is where it sends "+".
func ExampleReadCommand() {
	in := "a2 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n" +
		"a3 LOGIN joe {6}\r\nsecret\r\n"
	d := imapwire.NewDecoder(bufio.NewReader(strings.NewReader(in)), imapwire.Limits{})
	d.OnSyncLiteral = func(size int64) error {
		fmt.Printf("(server sends \"+ Ready\" for %d octets)\n", size)
		return nil
	}
	for {
		cmd, err := imapwire.ReadCommand(d)
		if err != nil {
			break
		}
		switch cmd.Name {
		case "FETCH":
			args, err := imapwire.ReadFetchArgs(d)
			if err != nil {
				fmt.Println(err)
				return
			}
			fmt.Println(cmd.Tag, "UID", cmd.UID, args.Set, len(args.Items), "items")
		case "LOGIN":
			user, pass, _ := imapwire.ReadLoginArgs(d)
			fmt.Println(cmd.Tag, user, len(pass))
		}
	}
	// Output:
	// a2 UID true 1:* 2 items
	// (server sends "+ Ready" for 6 octets)
	// a3 joe 6
}

// The Encoder picks an atom, a quoted string or a literal from the
// content; a client waits for the continuation before a literal's bytes.
func ExampleEncoder() {
	var out strings.Builder
	w := bufio.NewWriter(&out)
	e := imapwire.NewEncoder(w)
	e.WaitContinuation = func() error {
		fmt.Fprint(w, "<wait for +>")
		return nil
	}
	e.Atom("a1 SEARCH ")
	imap.SearchCriteria{Keys: []imap.SearchKey{
		{Op: imap.SearchFrom, Value: "joe"},
		{Op: imap.SearchSubject, Value: "two words"},
		imap.Not(imap.SearchKey{Op: imap.SearchBody, Value: "line\r\nbreak"}),
	}}.Format(e)
	e.CRLF()
	e.Flush()
	fmt.Print(strings.ReplaceAll(out.String(), "\r\n", "\n"))
	// Output:
	// a1 SEARCH FROM joe SUBJECT "two words" NOT BODY {11}
	// <wait for +>line
	// break
}

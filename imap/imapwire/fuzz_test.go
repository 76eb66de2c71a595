package imapwire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/mime"
)

var fuzzLimits = Limits{MaxLine: 4096, MaxStringLiteral: 4096, MaxLiteral: 1 << 16, MaxDepth: 16, MaxCommand: 1 << 16}

func fuzzSeeds(f *testing.F, extra ...string) {
	for _, s := range extra {
		f.Add([]byte(s))
	}
	if b, err := os.ReadFile(dovecotVectors); err == nil {
		for _, part := range strings.Split(string(b), "# ") {
			if _, rest, ok := strings.Cut(part, "\r\n"); ok {
				f.Add([]byte(rest))
			}
		}
	}
}

// FuzzDecode drives the token readers over arbitrary input: they must
// stop with an error, never panic or loop, and a string read must
// survive encoding and decoding again.
func FuzzDecode(f *testing.F) {
	fuzzSeeds(f, `("a" {3}`+"\r\nabc NIL 12 (x y)) ~{1}\r\n\x00", `"a\"b" {2+}`+"\r\nab", "((((((", "\\Seen 1:*,4 ")
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder(bufio.NewReader(bytes.NewReader(data)), fuzzLimits)
		for i := 0; i < 1000 && d.Err() == nil; i++ {
			c, ok := d.Peek()
			if !ok {
				break
			}
			switch {
			case c == ' ':
				d.SP()
			case c == '\r' || c == '\n':
				d.CRLF()
			case c == '"' || d.atLiteral():
				var s string
				if d.String(&s) {
					checkStringRoundTrip(t, s)
				}
			case c == '\\':
				var fl imap.Flag
				d.Flag(&fl)
			case isDigit(c):
				var set imap.SeqSet
				if d.SeqSet(&set) {
					if _, err := imap.ParseSeqSet(set.String()); err != nil {
						t.Fatalf("set %q does not parse again: %v", set, err)
					}
				}
			default:
				d.SkipValue()
			}
		}
	})
}

func checkStringRoundTrip(t *testing.T, s string) {
	var buf bytes.Buffer
	e := NewEncoder(bufio.NewWriter(&buf))
	e.AString(s)
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(bufio.NewReader(&buf), Limits{})
	var got string
	if !d.AString(&got) || got != s {
		t.Fatalf("string %q encoded as %q decodes to %q (%v)", s, buf.String(), got, d.Err())
	}
}

// FuzzCommand parses arbitrary input as client commands, as a server
// would, recovering after each bad one.
func FuzzCommand(f *testing.F) {
	fuzzSeeds(f, "a1 LOGIN {3}\r\nabc \"x\"\r\n", "a UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (A)]<0.1> FLAGS) (CHANGEDSINCE 1)\r\n",
		"a SEARCH CHARSET UTF-8 OR (NOT SEEN 1:3) HEADER X {1}\r\ny\r\n", "a APPEND x (\\Seen) {3+}\r\nabc\r\n",
		"a LIST (SUBSCRIBED) \"\" (% *) RETURN (STATUS (MESSAGES))\r\n", "a SELECT x (QRESYNC (1 2 1:5 (1 2)))\r\n",
		"a STORE 1 (UNCHANGEDSINCE 5) +FLAGS.SILENT \\Seen\r\n")
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder(bufio.NewReader(bytes.NewReader(data)), fuzzLimits)
		d.OnSyncLiteral = func(int64) error { return nil }
		for i := 0; i < 100; i++ {
			_, _, err := parseCommand(d)
			if err == nil {
				continue
			}
			var pe *ParseError
			var se *imap.SyntaxError
			if !errors.As(err, &pe) && !errors.As(err, &se) {
				return // I/O or limit: the connection would end
			}
			if d.DiscardLine() != nil {
				return
			}
			d.Reset()
		}
	})
}

// FuzzResponse reads arbitrary input as server responses of every kind.
// A body structure that parses must render again and parse back.
func FuzzResponse(f *testing.F) {
	fuzzSeeds(f, rfc3501Sample, "* LIST (\\Noselect) \"/\" foo (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n",
		"* ESEARCH (TAG \"a\") UID MIN 1 ALL 1:3\r\n", "* VANISHED (EARLIER) 1:5\r\n", "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n",
		"* STATUS x (MESSAGES 1 HIGHESTMODSEQ 5)\r\n", "* ID (\"a\" NIL)\r\n", "* QUOTA x (STORAGE 1 2)\r\n",
		"* OK [COPYUID 1 1:2 3:4] x\r\n", "* ENABLED X\r\n", "* 1 FETCH (BINARY[1] ~{1}\r\n\x00)\r\n")
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder(bufio.NewReader(bytes.NewReader(data)), fuzzLimits)
		for i := 0; i < 100; i++ {
			r, err := ReadResponse(d, &ResponseOptions{Section: func(_ uint32, _ imap.FetchItem, r io.Reader, _ int64) error {
				_, err := io.Copy(io.Discard, r)
				return err
			}})
			if err != nil {
				if isParseError(err) {
					continue
				}
				return
			}
			if fd, ok := r.(*FetchData); ok && fd.BodyStructure != nil {
				var buf bytes.Buffer
				e := NewEncoder(bufio.NewWriter(&buf))
				imap.FormatBodyStructure(e, fd.BodyStructure, true, false)
				if err := e.Flush(); err != nil {
					t.Fatal(err)
				}
				d2 := NewDecoder(bufio.NewReader(&buf), Limits{MaxDepth: -1, MaxLine: -1})
				if _, ok := d2.BodyStructure(); !ok {
					t.Fatalf("rendered structure does not parse: %v\n%s", d2.Err(), buf.String())
				}
			}
			if fd, ok := r.(*FetchData); ok && fd.Envelope != nil {
				var buf bytes.Buffer
				e := NewEncoder(bufio.NewWriter(&buf))
				imap.FormatEnvelope(e, fd.Envelope, false)
				if err := e.Flush(); err != nil {
					t.Fatal(err)
				}
				d2 := NewDecoder(bufio.NewReader(&buf), Limits{MaxLine: -1})
				if !d2.Envelope(&mime.Envelope{}) {
					t.Fatalf("rendered envelope does not parse: %v\n%s", d2.Err(), buf.String())
				}
			}
		}
	})
}

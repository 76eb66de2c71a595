package imapclient

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/imap/imapwire"
)

// FuzzClient feeds arbitrary server output to a Client running a few
// commands: whatever the server says, the calls return (the server ends
// by closing the connection) and nothing panics.
func FuzzClient(f *testing.F) {
	for _, s := range []string{
		"A1 OK done\r\n",
		"* 3 EXISTS\r\n* 1 EXPUNGE\r\nA1 OK\r\n* 1 FETCH (UID 7 FLAGS (\\Seen) BODY[] {5}\r\nhello)\r\nA2 OK\r\n",
		"+ go\r\nA1 NO [TOOBIG] no\r\n* BYE bye\r\n",
		"* SEARCH 1 2 3\r\n* ESEARCH (TAG \"A3\") UID MIN 1 COUNT 2\r\nA3 OK\r\n",
		"A1 OK [UIDNEXT x] bad\r\n* 1 FETCH (BODY[] {100}\r\nshort\r\n",
		"* OK [ALERT] hi\r\n* VANISHED (EARLIER) 1:3\r\n* LIST (\\Noselect) \"/\" foo\r\n* STATUS foo (MESSAGES 1)\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		cc, sc := net.Pipe()
		defer cc.Close()
		go io.Copy(io.Discard, sc)
		go func() {
			io.WriteString(sc, fakeGreeting+in)
			sc.Close()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := NewClient(ctx, cc, &Options{Handler: &Handler{
			Fetch: func(*imapwire.FetchData) {},
			Other: func(any) {},
		}, Limits: imapwire.Limits{MaxLiteral: 1 << 20}})
		if err != nil {
			return
		}
		defer c.Close()
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.Noop(ctx)
			c.UIDFetch(ctx, imap.UIDSetNum(7), []imap.FetchItem{{Attr: imap.FetchBodySection}}, &FetchOptions{
				Section: func(_ *imapwire.FetchData, _ imap.FetchItem, r io.Reader, _ int64) error {
					_, err := io.Copy(io.Discard, r)
					return err
				}}).Collect()
			c.Search(ctx, imap.SearchCriteria{}, &SearchOptions{ReturnMin: true})
		}()
		c.Append(ctx, "INBOX", 5, strings.NewReader("hello"), nil)
		<-done
	})
}

package imapclient_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/imap/imapclient"
	"github.com/mailwire/mailwire/imap/imapwire"
)

// List the mailboxes, with their message counts where the server offers
// LIST-STATUS.
func ExampleClient_List() {
	ctx := context.Background()
	c, err := imapclient.DialTLS(ctx, "imap.example.com:993", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(ctx, "alice", "secret"); err != nil {
		log.Fatal(err)
	}
	var o *imapclient.ListOptions
	if c.Caps().Has(imap.CapListStatus) {
		o = &imapclient.ListOptions{ReturnStatus: []imap.StatusItem{imap.StatusMessages}}
	}
	list, err := c.List(ctx, "", "*", o)
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range list {
		if m.Status != nil && m.Status.Messages != nil {
			fmt.Printf("%s (%d messages)\n", m.Mailbox, *m.Status.Messages)
		} else {
			fmt.Println(m.Mailbox)
		}
	}
	c.Logout(ctx)
}

// Fetch the envelopes of the unseen messages of INBOX, then stream the
// first one's body to standard output without holding it in memory.
func ExampleClient_Fetch() {
	ctx := context.Background()
	c, err := imapclient.DialStartTLS(ctx, "imap.example.com:143", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(ctx, "alice", "secret"); err != nil {
		log.Fatal(err)
	}
	if _, err := c.Examine(ctx, imap.Inbox, nil); err != nil {
		log.Fatal(err)
	}
	unseen, err := c.UIDSearch(ctx, imap.SearchCriteria{Keys: []imap.SearchKey{{Op: imap.SearchUnseen}}}, nil)
	if err != nil {
		log.Fatal(err)
	}
	if len(unseen.All) == 0 {
		return
	}
	fc := c.UIDFetch(ctx, imap.UIDSet(unseen.All), []imap.FetchItem{{Attr: imap.FetchUID}, {Attr: imap.FetchEnvelope}}, nil)
	for m := fc.Next(); m != nil; m = fc.Next() {
		fmt.Printf("%d: %s (from %s)\n", m.UID, m.Envelope.Subject, m.Envelope.From)
	}
	if err := fc.Close(); err != nil {
		log.Fatal(err)
	}

	first := imap.UIDSetNum(unseen.Nums()[0])
	body := []imap.FetchItem{{Attr: imap.FetchBodySection, Peek: true}}
	_, err = c.UIDFetch(ctx, first, body, &imapclient.FetchOptions{
		Section: func(m *imapwire.FetchData, it imap.FetchItem, r io.Reader, size int64) error {
			_, err := io.Copy(os.Stdout, r)
			return err
		},
	}).Collect()
	if err != nil {
		log.Fatal(err)
	}
	c.Logout(ctx)
}

// Wait in IDLE until new mail arrives, for at most 25 minutes (RFC 2177
// asks clients to start IDLE again within 29).
func ExampleClient_Idle() {
	ctx := context.Background()
	arrived := make(chan uint32, 1)
	o := &imapclient.Options{Handler: &imapclient.Handler{
		Exists: func(n uint32) {
			select {
			case arrived <- n:
			default:
			}
		},
	}}
	c, err := imapclient.DialTLS(ctx, "imap.example.com:993", o)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(ctx, "alice", "secret"); err != nil {
		log.Fatal(err)
	}
	sel, err := c.Select(ctx, imap.Inbox, nil)
	if err != nil {
		log.Fatal(err)
	}
	<-arrived // the EXISTS of SELECT
	ictx, cancel := context.WithTimeout(ctx, 25*time.Minute)
	defer cancel()
	idle, err := c.Idle(ictx)
	if err != nil {
		log.Fatal(err)
	}
	select {
	case n := <-arrived:
		fmt.Printf("%d new messages\n", n-sel.Exists)
	case <-ictx.Done():
	}
	if err := idle.Close(); err != nil {
		log.Fatal(err)
	}
	c.Logout(ctx)
}

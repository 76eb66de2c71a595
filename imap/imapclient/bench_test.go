package imapclient

import (
	"context"
	"os"
	"runtime"
	"testing"

	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/internal/peer"
)

// BenchmarkFetchEnvelopes fetches the UID, flags and envelope of 10,000
// messages from Dovecot. It runs only with MAILWIRE_BENCH_IMAP=1, as
// prefilling the mailbox takes a while. ns/msg and allocs/msg are per
// message.
func BenchmarkFetchEnvelopes(b *testing.B) {
	if os.Getenv("MAILWIRE_BENCH_IMAP") != "1" {
		b.Skip("set MAILWIRE_BENCH_IMAP=1 to run")
	}
	const n = 10000
	d := startDovecot(b, n, n/2)
	ctx := context.Background()
	c, err := DialTLS(ctx, peer.Addr(d.IMAPSPort), &Options{TLSConfig: d.TLS.Client})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(ctx, "user", "pass"); err != nil {
		b.Fatal(err)
	}
	if _, err := c.Examine(ctx, imap.Inbox, nil); err != nil {
		b.Fatal(err)
	}
	items := []imap.FetchItem{{Attr: imap.FetchUID}, {Attr: imap.FetchFlags}, {Attr: imap.FetchEnvelope}}
	all := imap.SeqSet{{Start: 1, Stop: imap.Star}}
	fetch := func() {
		fc := c.Fetch(ctx, all, items, nil)
		got := 0
		for m := fc.Next(); m != nil; m = fc.Next() {
			got++
		}
		if err := fc.Close(); err != nil || got != n {
			b.Fatalf("fetched %d: %v", got, err)
		}
	}
	fetch() // warm Dovecot's caches
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		fetch()
	}
	b.StopTimer()
	runtime.ReadMemStats(&ms1)
	msgs := float64(b.N) * n
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/msgs, "ns/msg")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/msgs, "allocs/msg")
}

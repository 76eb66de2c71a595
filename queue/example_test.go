package queue_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mailwire/mailwire/queue"
	"github.com/mailwire/mailwire/smtp"
)

// printer is a Transport that delivers by printing.
type printer struct{}

func (printer) Deliver(ctx context.Context, env *queue.Envelope, rcpts []int, open func() (io.ReadCloser, error)) []queue.Outcome {
	var out []queue.Outcome
	for _, i := range rcpts {
		fmt.Println("deliver to", env.Recipients[i].Addr)
		out = append(out, queue.Outcome{Index: i, Kind: queue.Success})
	}
	return out
}

func Example() {
	dir, _ := os.MkdirTemp("", "queue")
	defer os.RemoveAll(dir)
	store, err := queue.OpenDirStore(dir, nil)
	if err != nil {
		panic(err)
	}
	// A real queue uses &queue.Deliverer{LocalName: "mta.example.org"}.
	q := &queue.Queue{Store: store, Transport: printer{}, Hostname: "mta.example.org"}
	env := &queue.Envelope{
		From:       smtp.MustParseMailbox("alice@example.org"),
		Recipients: []queue.Recipient{{Addr: smtp.MustParseMailbox("bob@example.net")}},
	}
	ctx := context.Background()
	if _, err := q.Enqueue(ctx, env, strings.NewReader("Subject: hi\r\n\r\nhello\r\n")); err != nil {
		panic(err)
	}
	q.ProcessDue(ctx) // Run does this in a loop
	left, _ := q.List(ctx)
	fmt.Println(len(left), "left")
	// Output:
	// deliver to bob@example.net
	// 0 left
}

package imapserver_test

import (
	"context"
	"fmt"
	"log"
	"net"

	"github.com/mailwire/mailwire/imap/imapserver"
	"github.com/mailwire/mailwire/imap/imapserver/imapmem"
)

// An IMAP server over the in-memory backend, on a loopback port. A real
// server sets TLSConfig and leaves AllowInsecureAuth false.
func Example() {
	mem := imapmem.New()
	if err := mem.AddUser("alice", "secret"); err != nil {
		log.Fatal(err)
	}
	uid, _ := mem.Deliver("alice", "INBOX", []byte("Subject: hi\r\n\r\nHello.\r\n"))

	srv := &imapserver.Server{Hostname: "imap.example", Backend: mem, AllowInsecureAuth: true}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Shutdown(context.Background())

	fmt.Println("delivered UID", uid, "; serving on", l.Addr().Network())
	// Output: delivered UID 1 ; serving on tcp
}

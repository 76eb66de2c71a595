package pop3_test

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/message/maildir"
	"github.com/mailwire/mailwire/pop3"
	"github.com/mailwire/mailwire/pop3/pop3maildir"
)

// maildirs is a Backend serving each user's Maildir at root/USER, with
// logins checked by an auth.ServerConfig (USER/PASS and AUTH alike).
type maildirs struct {
	root string
	sasl auth.ServerConfig
}

func (b *maildirs) NewSession(c *pop3.Conn) (pop3.Session, error) {
	return &maildirSession{b: b, conn: c}, nil
}

// maildirSession is one connection's session.
type maildirSession struct {
	b    *maildirs
	conn *pop3.Conn
}

func (s *maildirSession) SASLMechanisms() []string {
	return s.b.sasl.Mechanisms(s.conn.TLS())
}

func (s *maildirSession) NewSASLServer(ctx context.Context, mech string) (auth.Server, error) {
	return s.b.sasl.NewServer(mech, s.conn.TLS())
}

func (s *maildirSession) OpenMaildrop(ctx context.Context, user string) (pop3.Maildrop, error) {
	if user == "" || strings.ContainsAny(user, `/\`) || user[0] == '.' {
		return nil, auth.ErrAuthFailed
	}
	d, err := maildir.Open(filepath.Join(s.b.root, user))
	if err != nil {
		return nil, err
	}
	return pop3maildir.Open(d)
}

func (s *maildirSession) Close() error { return nil }

// startExampleServer runs a POP3 server over a Maildir holding two messages
// for alice and returns its address.
func startExampleServer() (addr string, stop func()) {
	root, err := os.MkdirTemp("", "pop3-example")
	if err != nil {
		log.Fatal(err)
	}
	d, err := maildir.Create(filepath.Join(root, "alice"))
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range []string{"Subject: hello\n\nHi Alice.\n", "Subject: again\n\nStill here?\n"} {
		if _, err := d.Deliver(strings.NewReader(m)); err != nil {
			log.Fatal(err)
		}
	}
	creds := auth.NewMemoryStore()
	creds.SetPassword("alice", "secret")

	srv := &pop3.Server{
		// Only for this loopback example: production servers set TLSConfig
		// and leave AllowInsecureAuth and AllowCleartext false, so that
		// passwords travel only after STLS.
		Backend:           &maildirs{root: root, sasl: auth.ServerConfig{Credentials: creds, AllowCleartext: true}},
		AllowInsecureAuth: true,
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(l)
	return l.Addr().String(), func() {
		srv.Shutdown(context.Background())
		os.RemoveAll(root)
	}
}

// A POP3 server over Maildirs: the Backend checks passwords and opens the
// user's Maildir with an exclusive lock.
func ExampleServer() {
	addr, stop := startExampleServer()
	defer stop()

	ctx := context.Background()
	c, err := pop3.Dial(ctx, addr)
	if err != nil {
		log.Fatal(err)
	}
	c.AllowInsecureAuth = true // a loopback test server without TLS
	defer c.Close()
	if err := c.Login(ctx, "alice", "secret"); err != nil {
		log.Fatal(err)
	}
	n, size, err := c.Stat(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n, "messages,", size, "octets")

	// A second session finds the maildrop locked.
	c2, err := pop3.Dial(ctx, addr)
	if err != nil {
		log.Fatal(err)
	}
	c2.AllowInsecureAuth = true // a loopback test server without TLS
	defer c2.Close()
	fmt.Println(c2.Login(ctx, "alice", "secret"))
	c.Quit(ctx)
	// Output:
	// 2 messages, 60 octets
	// pop3: [IN-USE] maildrop already locked
}

// A client that downloads every message and deletes it from the server.
func ExampleClient() {
	addr, stop := startExampleServer()
	defer stop()

	ctx := context.Background()
	c, err := pop3.Dial(ctx, addr)
	if err != nil {
		log.Fatal(err)
	}
	c.AllowInsecureAuth = true // a loopback test server without TLS
	defer c.Close()
	// Against a real server: c.STLS(ctx, nil) first, or pop3.DialTLS.
	if err := c.Login(ctx, "alice", "secret"); err != nil {
		log.Fatal(err)
	}
	msgs, err := c.Uidl(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range msgs {
		body, err := c.Retr(ctx, m.Number)
		if err != nil {
			log.Fatal(err)
		}
		// The message streams in with CRLF line ends; save it with
		// io.Copy, or, as here, print it line by line.
		sc := bufio.NewScanner(body)
		for sc.Scan() {
			fmt.Println(sc.Text())
		}
		if err := sc.Err(); err != nil {
			log.Fatal(err)
		}
		body.Close()
		if err := c.Dele(ctx, m.Number); err != nil {
			log.Fatal(err)
		}
	}
	// The deletions take effect at QUIT.
	if err := c.Quit(ctx); err != nil {
		log.Fatal(err)
	}
	// Output:
	// Subject: hello
	//
	// Hi Alice.
	// Subject: again
	//
	// Still here?
}

package queue

import (
	"bufio"
	"net"
	"strings"
	"sync"
	"testing"
)

// fakeServer is a scripted SMTP next hop for hostile behaviour: handle
// runs for each connection.
type fakeServer struct {
	ln   net.Listener
	Addr string
	wg   sync.WaitGroup
}

func newFakeServer(t *testing.T, handle func(c net.Conn, br *bufio.Reader)) *fakeServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{ln: ln, Addr: ln.Addr().String()}
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Go(func() {
				defer c.Close()
				handle(c, bufio.NewReader(c))
			})
		}
	})
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

// serveScript answers the commands of a client: ehlo is the EHLO reply's
// keywords; reply decides the answer to each other command ("" for the
// usual one); it returns false to hang up.
func serveScript(c net.Conn, br *bufio.Reader, ehlo []string, reply func(cmd string) (string, bool)) {
	c.Write([]byte("220 fake ESMTP\r\n"))
	inData := false
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		if inData {
			if line == ".\r\n" {
				inData = false
				r, ok := reply(".")
				if !ok {
					return
				}
				if r == "" {
					r = "250 2.0.0 ok"
				}
				c.Write([]byte(r + "\r\n"))
			}
			continue
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		r, ok := reply(cmd)
		if !ok {
			return
		}
		if r == "" {
			switch {
			case strings.HasPrefix(cmd, "EHLO"):
				var b strings.Builder
				b.WriteString("250-fake\r\n")
				for i, k := range ehlo {
					if i == len(ehlo)-1 {
						b.WriteString("250 " + k + "\r\n")
					} else {
						b.WriteString("250-" + k + "\r\n")
					}
				}
				if len(ehlo) == 0 {
					b.Reset()
					b.WriteString("250 fake\r\n")
				}
				c.Write([]byte(b.String()))
				continue
			case cmd == "DATA":
				r = "354 go on"
				inData = true
			case cmd == "QUIT":
				c.Write([]byte("221 bye\r\n"))
				return
			default:
				r = "250 ok"
			}
		} else if cmd == "DATA" && strings.HasPrefix(r, "354") {
			inData = true
		}
		c.Write([]byte(r + "\r\n"))
	}
}

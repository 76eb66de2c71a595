package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/message"
	"github.com/mailwire/mailwire/message/maildir"
	"github.com/mailwire/mailwire/message/mbox"
	"github.com/mailwire/mailwire/pop3"
)

// runPOP3 implements "mailctl pop3 list|fetch|delete".
func runPOP3(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "-help" {
		return usagef("pop3: want list, fetch or delete")
	}
	cmd := args[0]
	fs := flag.NewFlagSet("pop3 "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf connFlags
	cf.register(fs, "127.0.0.1:2110", "as on port 995")
	var (
		mech      = fs.String("mech", "", "log in with this SASL `mechanism` instead of USER/PASS")
		toMaildir = fs.String("maildir", "", "fetch: deliver into the Maildir at `dir` (created if needed)")
		toDir     = fs.String("dir", "", "fetch: write each message to `dir`/UIDL.eml")
		toMbox    = fs.String("mbox", "", "fetch: append each message to the mbox `file` (created, with its directory, if needed; locked, mboxrd)")
		del       = fs.Bool("delete", false, "fetch: delete each message from the server once stored")
	)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: mailctl pop3 list|fetch|delete [flags] [message numbers]\n\n"+
			"fetch without -maildir, -dir or -mbox writes the messages to standard output.\n"+
			"Without -delete they stay on the server, and fetching again gets them again\n"+
			"(-dir overwrites DIR/UIDL.eml; -maildir and -mbox store another copy).\n\n")
		fs.PrintDefaults()
	}
	if cmd == "-h" || cmd == "-help" {
		fs.Usage()
		return flag.ErrHelp
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if err := cf.finish(); err != nil {
		return err
	}
	if cf.user == "" {
		return usagef("pop3: -user is required")
	}
	var nums []int
	for _, a := range fs.Args() {
		n, err := strconv.Atoi(a)
		if err != nil || n < 1 {
			return usagef("pop3: %q is not a message number", a)
		}
		nums = append(nums, n)
	}
	switch cmd {
	case "list":
		if len(nums) > 0 {
			return usagef("pop3 list takes no message numbers")
		}
	case "fetch":
		n := 0
		for _, v := range []string{*toMaildir, *toDir, *toMbox} {
			if v != "" {
				n++
			}
		}
		if n > 1 {
			return usagef("pop3 fetch: one of -maildir, -dir and -mbox, not several")
		}
	case "delete":
		if len(nums) == 0 {
			return usagef("pop3 delete: which messages?")
		}
	default:
		return usagef("pop3: unknown command %q: want list, fetch or delete", cmd)
	}
	ctx, cancel := context.WithTimeout(ctx, cf.timeout)
	defer cancel()

	c, err := dialPOP3(ctx, &cf, *mech)
	if err != nil {
		return err
	}
	defer c.Close()
	list, err := c.List(ctx)
	if err != nil {
		return err
	}
	// UIDL is optional (RFC 1939 §7): without it, -dir names files
	// uniquely instead.
	uids, err := c.Uidl(ctx)
	if pe := (*pop3.Error)(nil); errors.As(err, &pe) {
		uids, err = nil, nil
	}
	if err != nil {
		return err
	}
	uidOf := map[int]string{}
	for _, u := range uids {
		uidOf[u.Number] = u.UID
	}
	sizeOf := map[int]int64{}
	for _, m := range list {
		sizeOf[m.Number] = m.Size
	}
	if len(nums) == 0 {
		for _, m := range list {
			nums = append(nums, m.Number)
		}
	}
	for _, n := range nums {
		if _, ok := sizeOf[n]; !ok {
			return fmt.Errorf("no message %d (the maildrop has %d)", n, len(list))
		}
	}

	switch cmd {
	case "list":
		for _, m := range list {
			fmt.Fprintf(stdout, "%d %d %s\n", m.Number, m.Size, uidOf[m.Number])
		}
	case "delete":
		for _, n := range nums {
			if err := c.Dele(ctx, n); err != nil {
				return fmt.Errorf("DELE %d: %w", n, err)
			}
		}
		fmt.Fprintf(stderr, "deleted %d message(s)\n", len(nums))
	case "fetch":
		var total int64
		for _, n := range nums {
			total += sizeOf[n]
		}
		p := newProgress(stderr, "fetching", total)
		if *toMaildir == "" && *toDir == "" && *toMbox == "" {
			p.on = false // the messages themselves go to standard output
		}
		defer p.finish()
		store, err := newStore(*toMaildir, *toDir, *toMbox, stdout)
		if err != nil {
			return err
		}
		for _, n := range nums {
			r, err := c.Retr(ctx, n)
			if err != nil {
				return fmt.Errorf("RETR %d: %w", n, err)
			}
			err = store(p.reader(r), uidOf[n])
			r.Close()
			if err != nil {
				return fmt.Errorf("message %d: %w", n, err)
			}
			if *del {
				if err := c.Dele(ctx, n); err != nil {
					return fmt.Errorf("DELE %d: %w", n, err)
				}
			}
		}
		p.finish()
		if *toMaildir != "" || *toDir != "" || *toMbox != "" {
			fmt.Fprintf(stderr, "fetched %d message(s)\n", len(nums))
		}
	}
	// QUIT commits the deletions (RFC 1939 §6).
	return c.Quit(ctx)
}

// newStore returns the function storing each fetched message.
func newStore(maildirPath, dir, mboxPath string, stdout io.Writer) (func(r io.Reader, uid string) error, error) {
	switch {
	case mboxPath != "":
		// As -maildir and -dir do, make the directory the file goes in.
		if err := os.MkdirAll(filepath.Dir(mboxPath), 0o700); err != nil {
			return nil, err
		}
		return func(r io.Reader, _ string) error {
			br := bufio.NewReaderSize(r, 64<<10)
			return mbox.Append(mboxPath, envelopeSender(br), time.Now(), br)
		}, nil
	case maildirPath != "":
		d, err := maildir.Create(maildirPath)
		if err != nil {
			return nil, err
		}
		return func(r io.Reader, _ string) error {
			_, err := d.Deliver(r)
			return err
		}, nil
	case dir != "":
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		return func(r io.Reader, uid string) error {
			return writeMessageFile(dir, fileName(uid), r)
		}, nil
	}
	return func(r io.Reader, _ string) error {
		_, err := io.Copy(stdout, r)
		return err
	}, nil
}

// envelopeSender returns the address of the message's Return-Path field
// for the mbox separator line, or MAILER-DAEMON, peeking at the header.
func envelopeSender(br *bufio.Reader) string {
	b, _ := br.Peek(br.Size())
	if end := bytes.Index(b, []byte("\r\n\r\n")); end >= 0 {
		b = b[:end+2]
	}
	h, err := message.ReadHeader(bufio.NewReader(bytes.NewReader(append(b, "\r\n"...))), message.Limits{})
	if err == nil {
		if a, err := message.ParseReturnPath(h.Get("Return-Path")); err == nil && a != "" && !strings.ContainsFunc(a, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return a
		}
	}
	return "MAILER-DAEMON"
}

// fileName returns the file name for a message with the given UIDL: the
// UIDL itself when it is a safe name, else a safe form of it followed by a
// hash of the original, so that two UIDLs differing only in characters
// safeName replaces never share a file, one message overwriting another.
// Without a UIDL the name is unique to this fetch.
func fileName(uid string) string {
	if uid == "" {
		var b [8]byte
		rand.Read(b[:])
		return fmt.Sprintf("nouidl-%d-%x.eml", time.Now().UnixNano(), b)
	}
	name := safeName(uid)
	if name != uid {
		sum := sha256.Sum256([]byte(uid))
		name += "-" + hex.EncodeToString(sum[:6])
	}
	return name + ".eml"
}

// writeMessageFile writes r to dir/name through a temporary file, so that a
// failed fetch leaves no partial message under the final name, and syncs
// the file and the directory before returning (the caller may then delete
// the message on the server).
func writeMessageFile(dir, name string, r io.Reader) error {
	f, err := os.CreateTemp(dir, ".fetch-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, name)); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// safeName makes a UIDL (printable ASCII, RFC 1939 §7) a file name.
func safeName(uid string) string {
	b := []byte(uid)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	s := strings.TrimLeft(string(b), ".")
	if s == "" {
		s = "message"
	}
	return s
}

// dialPOP3 connects and logs in as the flags say.
func dialPOP3(ctx context.Context, cf *connFlags, mech string) (*pop3.Client, error) {
	tc, err := cf.tlsConfig()
	if err != nil {
		return nil, err
	}
	var c *pop3.Client
	if cf.implicit {
		c, err = pop3.DialTLS(ctx, cf.server, tc)
	} else {
		c, err = pop3.Dial(ctx, cf.server)
		if err == nil && cf.startTLS {
			if err = c.STLS(ctx, tc); err != nil {
				c.Close()
			}
		}
	}
	if err != nil {
		return nil, err
	}
	c.AllowInsecureAuth = cf.plainAuth
	if mech == "" {
		err = c.Login(ctx, cf.user, cf.password)
	} else {
		var a auth.Client
		cs := tlsState(c)
		if a, err = saslClient(strings.ToUpper(mech), cf.user, cf.password, cs); err == nil {
			err = c.Auth(ctx, a)
		}
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("login: %w", err)
	}
	return c, nil
}

// tlsState returns the TLS state of c's connection, nil without TLS.
func tlsState(c *pop3.Client) *tls.ConnectionState {
	if tc, ok := c.Conn().(*tls.Conn); ok {
		st := tc.ConnectionState()
		return &st
	}
	return nil
}

package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/mailwire/mailwire/message"
)

const usage = `usage: mailctl <command> [flags] [arguments]

Commands:
  send            compose a message (or take one as it is) and submit it
                  with STARTTLS (or implicit TLS) and AUTH
  pop3 list       list the messages of a POP3 maildrop
  pop3 fetch [N]  fetch messages into a Maildir, files or standard output
  pop3 delete N   delete messages

Run "mailctl send -h" or "mailctl pop3 -h" for the flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run runs one mailctl command and returns the exit status: 0 for success,
// 1 for a failure, 2 for a usage error.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "send":
		err = runSend(ctx, args[1:], stdin, stdout, stderr)
	case "pop3":
		err = runPOP3(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "mailctl: unknown command %q\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintln(stderr, "mailctl:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "mailctl:", err)
		return 1
	}
}

// usageError is a mistake on the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// connFlags are the connection flags common to send and pop3.
type connFlags struct {
	server    string
	implicit  bool
	startTLS  bool
	insecure  bool
	plainAuth bool
	caFile    string
	user      string
	password  string
	timeout   time.Duration
	defServer string
}

func (c *connFlags) register(fs *flag.FlagSet, defServer, implicitNote string) {
	c.defServer = defServer
	fs.StringVar(&c.server, "server", defServer, "server `host:port`")
	fs.BoolVar(&c.implicit, "tls", false, "use implicit TLS ("+implicitNote+")")
	fs.BoolVar(&c.startTLS, "starttls", true, "upgrade the connection with STARTTLS/STLS (required for login)")
	fs.BoolVar(&c.insecure, "insecure", false, "do not verify the server's certificate (for a self-signed one)")
	fs.BoolVar(&c.plainAuth, "cleartext-login", false, "allow logging in without TLS, with -starttls=false (trusted networks only)")
	fs.StringVar(&c.caFile, "cafile", "", "trust the CA certificates in this PEM `file`")
	fs.StringVar(&c.user, "user", "", "user `name` to log in as")
	fs.StringVar(&c.password, "password", "", "`password` (default: $MAILCTL_PASSWORD)")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Minute, "give up after this `duration`")
}

// finish applies defaults after parsing.
func (c *connFlags) finish() error {
	if c.password == "" {
		c.password = os.Getenv("MAILCTL_PASSWORD")
	}
	if c.user != "" && c.password == "" {
		return usagef("-user needs -password or $MAILCTL_PASSWORD")
	}
	if _, _, err := net.SplitHostPort(c.server); err != nil {
		return usagef("-server %q: %v", c.server, err)
	}
	return nil
}

// tlsConfig returns the client TLS configuration the flags ask for.
func (c *connFlags) tlsConfig() (*tls.Config, error) {
	host, _, _ := net.SplitHostPort(c.server)
	cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.insecure}
	if c.caFile != "" {
		pem, err := os.ReadFile(c.caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificate", c.caFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// splitList splits repeated, comma-separated flag values holding
// addresses. A value that parses as an RFC 5322 address list is split by
// that grammar, so that a comma in a quoted display name ("Doe, John"
// <john@example.org>) does not split it; any other value is split at each
// comma and its parts are checked later.
func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		if list, err := message.ParseAddressList(v); err == nil && !slices.ContainsFunc(list, func(a *message.Address) bool { return a.IsGroup }) {
			for _, a := range list {
				out = append(out, a.String())
			}
			continue
		}
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

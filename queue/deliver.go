package queue

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailwire/mailwire/dnsmx"
	"github.com/mailwire/mailwire/smtp"
)

// Kind is the outcome of a delivery attempt for one recipient.
type Kind uint8

const (
	// Temporary: try again later (4xx, no connection, DNS failure).
	Temporary Kind = iota
	// Permanent: give up on this recipient (5xx, null MX, loop).
	Permanent
	// Success: the next hop took the message.
	Success
)

func (k Kind) String() string {
	return [...]string{"temporary", "permanent", "success"}[k]
}

// Outcome is what became of one recipient in one attempt.
type Outcome struct {
	// Index is the recipient's index in Envelope.Recipients.
	Index int
	Kind  Kind
	// Status is an RFC 3463 status code, "5.1.1"; Diagnostic the next
	// hop's reply as RFC 3464 §2.3.6 writes it ("smtp; 550 5.1.1 ...") or
	// our own words; RemoteMTA the host that answered, if any.
	Status     string
	Diagnostic string
	RemoteMTA  string
}

// Transport delivers a message to its active recipients. *Deliverer is the
// SMTP Transport; tests of a Queue may use their own.
type Transport interface {
	// Deliver attempts the recipients given by index and returns an
	// Outcome for each. open returns the message body afresh on each call.
	Deliver(ctx context.Context, env *Envelope, rcpts []int, open func() (io.ReadCloser, error)) []Outcome
}

// Default limits of a Deliverer.
const (
	DefaultPort        = 25
	DefaultMaxPerHost  = 4
	DefaultIdleTimeout = 30 * time.Second
	// DefaultMaxReceived: RFC 5321 §6.3 suggests a loop limit of at least
	// 100 Received fields.
	DefaultMaxReceived = 100
)

// Timeouts bound the waits of a delivery (RFC 5321 §4.5.3.2). A zero field
// takes its default.
type Timeouts struct {
	// Connect bounds the TCP connection; default 2 minutes.
	Connect time.Duration
	// Greeting bounds the wait for the 220 greeting and the EHLO reply
	// (§4.5.3.2.1: 5 minutes).
	Greeting time.Duration
	// Command bounds each wait for a reply or for room to write during a
	// transaction: MAIL and RCPT 5 minutes (§4.5.3.2.2, .3), the default.
	// The client of package smtp has one bound for every wait, so this one
	// also covers DATA's 354 (§4.5.3.2.4: 2 minutes), each data block
	// (3 minutes) and the final reply (§4.5.3.2.6: 10 minutes).
	Command time.Duration
}

func (t Timeouts) withDefaults() Timeouts {
	if t.Connect <= 0 {
		t.Connect = 2 * time.Minute
	}
	if t.Greeting <= 0 {
		t.Greeting = 5 * time.Minute
	}
	if t.Command <= 0 {
		t.Command = 5 * time.Minute
	}
	return t
}

// Deliverer is a Transport over SMTP: to a smarthost when one is set,
// otherwise to the mail exchangers of each recipient's domain (RFC 5321
// §5). Set the fields before first use; a Deliverer is then safe for
// concurrent use. Close drops its idle connections.
type Deliverer struct {
	// LocalName is the EHLO name; default "localhost".
	LocalName string
	// Smarthost, "host:port", receives all mail when set. STARTTLS is
	// then required (unless SmarthostInsecure) and, with Username, AUTH
	// too (RFC 4954).
	Smarthost         string
	Username          string
	Password          string
	SmarthostInsecure bool // allow no TLS (and AUTH without it) to the smarthost
	// Locator finds mail exchangers; nil means a zero dnsmx.Locator.
	Locator *dnsmx.Locator
	// Port is the port of mail exchangers; default 25.
	Port int
	// TLSConfig is used for STARTTLS. Towards mail exchangers STARTTLS is
	// opportunistic: used when offered, and the certificate is not
	// verified unless TLSConfig says how (RFC 7435: unauthenticated
	// encryption beats none); a failed handshake is retried without TLS.
	// Towards the smarthost the certificate is verified.
	TLSConfig *tls.Config
	// Timeouts of each connection.
	Timeouts Timeouts
	// MaxPerHost bounds the concurrent connections to one address;
	// default DefaultMaxPerHost.
	MaxPerHost int
	// IdleTimeout is how long a connection is kept for the next message
	// to the same address; default DefaultIdleTimeout, negative none.
	IdleTimeout time.Duration
	// MaxReceived: a message with more Received fields is taken to loop
	// and fails (5.4.6); default DefaultMaxReceived.
	MaxReceived int
	// Downgrade converts 8-bit messages for next hops without 8BITMIME;
	// it is smtp.ClientOptions.Downgrade (set it to mime.To7bit). Nil: such
	// a message fails for that next hop.
	Downgrade func(dst io.Writer, src io.Reader) error
	// DialContext opens connections instead of a net.Dialer (tests map
	// addresses with it).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Logger receives one record per connection problem; nil discards.
	Logger *slog.Logger

	mu    sync.Mutex
	hosts map[string]*hostPool
}

type hostPool struct {
	sem  chan struct{}
	idle []idleConn
}

type idleConn struct {
	c     *smtp.Client
	since time.Time
	tls   bool
}

func (d *Deliverer) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Logger
}

// Close closes the idle connections.
func (d *Deliverer) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, p := range d.hosts {
		for _, ic := range p.idle {
			ic.c.Quit(context.Background())
		}
		p.idle = nil
	}
	return nil
}

func (d *Deliverer) pool(addr string) *hostPool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.hosts == nil {
		d.hosts = make(map[string]*hostPool)
	}
	p := d.hosts[addr]
	if p == nil {
		n := d.MaxPerHost
		if n <= 0 {
			n = DefaultMaxPerHost
		}
		p = &hostPool{sem: make(chan struct{}, n)}
		d.hosts[addr] = p
	}
	return p
}

// Deliver implements Transport.
func (d *Deliverer) Deliver(ctx context.Context, env *Envelope, rcpts []int, open func() (io.ReadCloser, error)) []Outcome {
	out := make([]Outcome, 0, len(rcpts))
	all := func(k Kind, status, diag string) []Outcome {
		for _, i := range rcpts {
			out = append(out, Outcome{Index: i, Kind: k, Status: status, Diagnostic: diag})
		}
		return out
	}
	// RFC 5321 §6.3: a message with too many Received fields loops.
	n, err := countReceived(open)
	if err != nil {
		return all(Temporary, "4.3.0", "reading the queued message: "+err.Error())
	}
	maxRcv := d.MaxReceived
	if maxRcv <= 0 {
		maxRcv = DefaultMaxReceived
	}
	if n > maxRcv {
		return all(Permanent, "5.4.6", fmt.Sprintf("routing loop: %d Received header fields", n))
	}
	if d.Smarthost != "" {
		return d.deliverTo(ctx, env, rcpts, open, []target{{name: d.Smarthost, addrs: []string{d.Smarthost}, smarthost: true}})
	}
	byDomain := map[string][]int{}
	var order []string
	for _, i := range rcpts {
		dom := strings.ToLower(env.Recipients[i].Addr.Domain)
		if _, ok := byDomain[dom]; !ok {
			order = append(order, dom)
		}
		byDomain[dom] = append(byDomain[dom], i)
	}
	for _, dom := range order {
		idx := byDomain[dom]
		targets, o := d.locate(ctx, dom, idx)
		if o != nil {
			out = append(out, o...)
			continue
		}
		out = append(out, d.deliverTo(ctx, env, idx, open, targets)...)
	}
	return out
}

type target struct {
	name      string
	addrs     []string // host:port
	smarthost bool
}

func (d *Deliverer) locate(ctx context.Context, domain string, idx []int) ([]target, []Outcome) {
	fail := func(k Kind, status, diag string) []Outcome {
		var out []Outcome
		for _, i := range idx {
			out = append(out, Outcome{Index: i, Kind: k, Status: status, Diagnostic: diag})
		}
		return out
	}
	if domain == "" {
		return nil, fail(Permanent, "5.1.3", "recipient address has no domain")
	}
	loc := d.Locator
	if loc == nil {
		loc = &dnsmx.Locator{}
	}
	hosts, err := loc.Locate(ctx, domain)
	switch {
	case errors.Is(err, dnsmx.ErrNullMX):
		// RFC 7505 §4.1: 556 5.1.10 for a domain that accepts no mail.
		return nil, fail(Permanent, "5.1.10", "domain "+domain+" accepts no mail (null MX)")
	case err != nil && dnsmx.IsTemporary(err):
		return nil, fail(Temporary, "4.4.3", "DNS: "+err.Error())
	case errors.Is(err, dnsmx.ErrLoop):
		return nil, fail(Permanent, "5.4.6", "DNS: "+err.Error())
	case err != nil:
		return nil, fail(Permanent, "5.1.2", "DNS: "+err.Error())
	}
	port := d.Port
	if port <= 0 {
		port = DefaultPort
	}
	var ts []target
	for _, h := range hosts {
		t := target{name: h.Name}
		for _, a := range h.Addrs {
			t.addrs = append(t.addrs, netip.AddrPortFrom(a, uint16(port)).String())
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// deliverTo tries the targets in order for the recipients idx: the next
// address or host after a connection failure or a temporary refusal of the
// whole transaction, per RFC 5321 §5.1 and §4.5.4.1.
func (d *Deliverer) deliverTo(ctx context.Context, env *Envelope, idx []int, open func() (io.ReadCloser, error), targets []target) []Outcome {
	last := Outcome{Kind: Temporary, Status: "4.4.1", Diagnostic: "no mail exchanger could be reached"}
	for _, t := range targets {
		for _, addr := range t.addrs {
			if ctx.Err() != nil {
				break
			}
			out, retryNext := d.attempt(ctx, env, idx, open, t, addr)
			if !retryNext {
				return out
			}
			if len(out) > 0 {
				last = out[0]
			}
		}
	}
	out := make([]Outcome, len(idx))
	for k, i := range idx {
		out[k] = last
		out[k].Index = i
	}
	return out
}

// attempt runs one transaction at one address. retryNext reports a failure
// of the whole transaction worth trying at the next address.
func (d *Deliverer) attempt(ctx context.Context, env *Envelope, idx []int, open func() (io.ReadCloser, error), t target, addr string) (out []Outcome, retryNext bool) {
	p := d.pool(addr)
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, true
	}
	defer func() { <-p.sem }()
	remote := t.name
	if !t.smarthost {
		host, _, _ := net.SplitHostPort(addr)
		remote = t.name + " [" + host + "]"
	}
	all := func(k Kind, status, diag string) []Outcome {
		out := make([]Outcome, len(idx))
		for j, i := range idx {
			out[j] = Outcome{Index: i, Kind: k, Status: status, Diagnostic: diag, RemoteMTA: t.name}
		}
		return out
	}
	c, err := d.conn(ctx, p, t, addr)
	if err != nil {
		d.logger().Info("queue: connection failed", "host", remote, "err", err)
		var se *smtp.Error
		if errors.As(err, &se) && se.Permanent() && t.smarthost {
			return all(Permanent, statusOf(se, "5.7.0"), diagnostic(se)), false
		}
		return all(Temporary, "4.4.1", remote+": "+err.Error()), true
	}
	keep := false
	defer func() {
		if keep {
			d.putIdle(p, c)
		} else {
			c.Close()
		}
	}()

	// RFC 1870 §6: do not send what the next hop says it will refuse.
	if limit, ok := c.MaxMessageSize(); ok && limit > 0 && env.Size > limit {
		keep = true
		return all(Permanent, "5.3.4", fmt.Sprintf("message of %d octets exceeds the %d octets %s accepts", env.Size, limit, t.name)), false
	}
	senv := d.smtpEnvelope(c, env, idx)
	body, err := open()
	if err != nil {
		keep = true
		return all(Temporary, "4.3.0", "reading the queued message: "+err.Error()), false
	}
	defer body.Close()
	// The client bounds each wait by Timeouts.Command only when the
	// context has no deadline; the caller's cancellation still closes the
	// connection.
	stop := context.AfterFunc(ctx, func() { c.Close() })
	res, err := c.Send(context.WithoutCancel(ctx), senv, body)
	stop()
	var ue *smtp.UnsupportedError
	var se *smtp.Error
	var de *smtp.DeliveryError
	switch {
	case err == nil || errors.As(err, &de):
		keep = true
		out = make([]Outcome, len(idx))
		for j, i := range idx {
			rerr := res.Rcpts[j].Err
			o := Outcome{Index: i, RemoteMTA: t.name}
			switch {
			case rerr == nil:
				o.Kind, o.Status = Success, "2.0.0"
				if res.Reply != nil {
					o.Diagnostic = "smtp; " + replyText(res.Reply)
				}
			case errors.As(rerr, &se):
				o.Kind, o.Status, o.Diagnostic = kindOf(se), statusOf(se, ""), diagnostic(se)
			default:
				o.Kind, o.Status, o.Diagnostic = Temporary, "4.4.2", rerr.Error()
			}
			out[j] = o
		}
		return out, false
	case errors.As(err, &ue):
		keep = true
		if ue.Extension == "SMTPUTF8" {
			// RFC 6531 §3.5: no downgrade of addresses here.
			return all(Permanent, "5.6.7", t.name+" does not support SMTPUTF8, which the message needs"), false
		}
		return all(Permanent, "5.6.3", fmt.Sprintf("%s does not support %s (%s)", t.name, ue.Extension, ue.RFC)), false
	case errors.As(err, &se):
		keep = !se.Temporary() || se.Code != 421
		if se.Permanent() {
			return all(Permanent, statusOf(se, ""), diagnostic(se)), false
		}
		return all(Temporary, statusOf(se, ""), diagnostic(se)), true
	default:
		d.logger().Info("queue: transaction failed", "host", remote, "err", err)
		return all(Temporary, "4.4.2", remote+": "+err.Error()), true
	}
}

// smtpEnvelope builds the envelope for Send, without the DSN parameters
// when the next hop does not offer DSN (RFC 3461 §4: they are not passed to
// a server that does not support the extension).
func (d *Deliverer) smtpEnvelope(c *smtp.Client, env *Envelope, idx []int) *smtp.Envelope {
	_, dsn := c.Extension("DSN")
	mo := &smtp.MailOptions{Body: env.Body, UTF8: env.UTF8}
	if dsn {
		mo.Return, mo.EnvelopeID = env.Return, env.EnvelopeID
	}
	se := &smtp.Envelope{From: env.From, MailOptions: mo}
	for _, i := range idx {
		r := &env.Recipients[i]
		se.To = append(se.To, r.Addr)
		var ro *smtp.RcptOptions
		if dsn && (r.Notify != nil || r.Orig != "") {
			ro = &smtp.RcptOptions{Notify: r.Notify, OriginalRecipientType: r.OrigType, OriginalRecipient: r.Orig}
		}
		se.RcptOptions = append(se.RcptOptions, ro)
	}
	return se
}

// conn returns an idle connection to addr or dials one: greeting, EHLO,
// STARTTLS (opportunistic to exchangers, required to the smarthost unless
// SmarthostInsecure) and, to the smarthost, AUTH.
func (d *Deliverer) conn(ctx context.Context, p *hostPool, t target, addr string) (*smtp.Client, error) {
	if c := d.getIdle(ctx, p); c != nil {
		return c, nil
	}
	c, err := d.dial(ctx, t, addr, true)
	if err != nil && !t.smarthost && errors.Is(err, errTLS) {
		// RFC 7435: opportunistic TLS that fails falls back to cleartext.
		c, err = d.dial(ctx, t, addr, false)
	}
	return c, err
}

var errTLS = errors.New("STARTTLS failed")

func (d *Deliverer) dial(ctx context.Context, t target, addr string, useTLS bool) (*smtp.Client, error) {
	to := d.Timeouts.withDefaults()
	opts := &smtp.ClientOptions{
		LocalName:         d.LocalName,
		Timeout:           to.Command,
		Downgrade:         d.Downgrade,
		DialContext:       d.DialContext,
		AllowInsecureAuth: t.smarthost && d.SmarthostInsecure,
	}
	if opts.DialContext == nil {
		dl := &net.Dialer{Timeout: to.Connect}
		opts.DialContext = dl.DialContext
	}
	host, _, _ := net.SplitHostPort(addr)
	var tc *tls.Config
	if d.TLSConfig != nil {
		tc = d.TLSConfig.Clone()
	} else {
		tc = &tls.Config{}
		if !t.smarthost {
			tc.InsecureSkipVerify = true
		}
	}
	if tc.ServerName == "" {
		if t.smarthost {
			tc.ServerName = host
		} else {
			tc.ServerName = t.name
		}
	}
	opts.TLSConfig = tc
	dctx, cancel := context.WithTimeout(ctx, to.Connect+to.Greeting)
	defer cancel()
	c, err := smtp.Dial(dctx, addr, opts)
	if err != nil {
		return nil, err
	}
	_, offered := c.Extension("STARTTLS")
	if useTLS && offered {
		if err := c.StartTLS(dctx, nil); err != nil {
			c.Close()
			return nil, fmt.Errorf("%w: %w", errTLS, err)
		}
	} else if t.smarthost && !d.SmarthostInsecure {
		c.Close()
		return nil, errors.New("smarthost does not offer STARTTLS")
	}
	if t.smarthost && d.Username != "" {
		if err := c.Login(dctx, d.Username, d.Password); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

func (d *Deliverer) getIdle(ctx context.Context, p *hostPool) *smtp.Client {
	idle := d.IdleTimeout
	if idle == 0 {
		idle = DefaultIdleTimeout
	}
	for {
		d.mu.Lock()
		if len(p.idle) == 0 {
			d.mu.Unlock()
			return nil
		}
		ic := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		d.mu.Unlock()
		if time.Since(ic.since) > idle {
			ic.c.Quit(ctx)
			continue
		}
		// A connection that idled may have been closed by the server.
		if err := ic.c.Reset(ctx); err != nil {
			ic.c.Close()
			continue
		}
		return ic.c
	}
}

func (d *Deliverer) putIdle(p *hostPool, c *smtp.Client) {
	if d.IdleTimeout < 0 {
		c.Quit(context.Background())
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(p.idle) >= cap(p.sem) {
		go c.Quit(context.Background())
		return
	}
	p.idle = append(p.idle, idleConn{c: c, since: time.Now()})
}

func kindOf(e *smtp.Error) Kind {
	if e.Permanent() {
		return Permanent
	}
	return Temporary
}

func statusOf(e *smtp.Error, def string) string {
	if !e.EnhancedCode.IsZero() {
		return e.EnhancedCode.String()
	}
	if def != "" {
		return def
	}
	// RFC 3463 §3.1 and §3.2: the class of the reply, other or undefined.
	return strconv.Itoa(e.Code/100) + ".0.0"
}

// diagnostic formats a reply for Diagnostic-Code (RFC 3464 §2.3.6).
func diagnostic(e *smtp.Error) string {
	s := "smtp; " + strconv.Itoa(e.Code)
	if !e.EnhancedCode.IsZero() {
		s += " " + e.EnhancedCode.String()
	}
	return s + " " + strings.ReplaceAll(e.Message, "\n", " ")
}

func replyText(r *smtp.Reply) string {
	s := strconv.Itoa(r.Code)
	if !r.EnhancedCode.IsZero() {
		s += " " + r.EnhancedCode.String()
	}
	return s + " " + strings.Join(r.Lines, " ")
}

// countReceived counts the Received fields in the message's header,
// reading no further than the header.
func countReceived(open func() (io.ReadCloser, error)) (int, error) {
	rc, err := open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 4096)
	n := 0
	for {
		line, err := br.ReadSlice('\n')
		if len(bytes.TrimRight(line, "\r\n")) == 0 && (err == nil || err == io.EOF) {
			return n, nil // end of header
		}
		if len(line) >= 9 && strings.EqualFold(string(line[:9]), "received:") {
			n++
		}
		for err == bufio.ErrBufferFull {
			_, err = br.ReadSlice('\n') // the rest of a long line
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

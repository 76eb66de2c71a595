package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"

	"github.com/mailwire/mailwire/auth/authres"
	"github.com/mailwire/mailwire/auth/dkim"
	"github.com/mailwire/mailwire/auth/dmarc"
	"github.com/mailwire/mailwire/auth/spf"
	"github.com/mailwire/mailwire/message"
	"github.com/mailwire/mailwire/smtp"
)

// Replies of sender authentication.
var (
	// errDMARCReject: the From domain's DMARC policy is p=reject and the
	// message failed it (RFC 7489 §6.6.4, §10.3: reject at the end of DATA;
	// RFC 3463 X.7.1, delivery not authorized).
	errDMARCReject = &smtp.Error{Code: 550, EnhancedCode: smtp.EnhancedCode{Class: 5, Subject: 7, Detail: 1}, Message: "Message rejected by the DMARC policy of the From domain"}
	// errDMARCTempFail: neither SPF nor DKIM passed, and the From
	// domain's DMARC policy could not be looked up: the message may be
	// one the policy rejects, so the sender is asked to retry (RFC 7489
	// §6.6.3 leaves a temporary failure to local policy; RFC 3463 X.7.0).
	errDMARCTempFail = &smtp.Error{Code: 451, EnhancedCode: smtp.EnhancedCode{Class: 4, Subject: 7, Detail: 0}, Message: "DMARC policy of the From domain unavailable (DNS failure); try again later"}
)

// junkFolder is the Maildir++ folder that DMARC p=quarantine sends mail to.
const junkFolder = "Junk"

// verdict is what sender authentication decided about one message.
type verdict struct {
	// fields go in front of the message: Authentication-Results and
	// Received-SPF, without the blank line.
	fields message.Header
	junk   bool        // deliver into the Junk folder
	refuse *smtp.Error // reply instead of delivering
}

// trusted reports whether the client is in -trusted-networks.
func (s *system) trusted(addr net.Addr) bool {
	ip, ok := clientIP(addr)
	if !ok {
		return false
	}
	for _, p := range s.cfg.TrustedNetworks {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// clientIP returns the IP address of a TCP peer, IPv4-mapped addresses as
// IPv4.
func clientIP(addr net.Addr) (netip.Addr, bool) {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return netip.Addr{}, false
	}
	return ta.AddrPort().Addr().Unmap(), true
}

// checkSPF checks the HELO identity and the MAIL FROM identity of the
// transaction (RFC 7208 §2.3, §2.4) and keeps the outcomes for the
// message's verdict. A failed check is recorded, never refused here: the
// DMARC policy decides at the end of DATA.
func (s *session) checkSPF(ctx context.Context, from smtp.Mailbox) {
	ip, _ := clientIP(s.conn.RemoteAddr())
	helo := s.conn.Hostname()
	if s.heloSPF == nil || s.heloSPF.Helo != helo {
		o, err := s.sys.spf.CheckHelo(ctx, ip, helo)
		s.heloSPF = &o
		s.logSPF(o, err)
	}
	o, err := s.sys.spf.CheckMailFrom(ctx, ip, from.String(), helo)
	s.mailSPF = &o
	s.logSPF(o, err)
}

func (s *session) logSPF(o spf.Outcome, err error) {
	attrs := []any{"identity", string(o.Identity), "domain", o.Domain, "result", string(o.Result)}
	if err != nil {
		attrs = append(attrs, "err", err)
	}
	s.log.Debug("spf", attrs...)
}

// dkimVerifier returns the Verifier that the message is streamed through.
func (s *session) dkimVerifier() *dkim.Verifier {
	return dkim.NewVerifier(&dkim.VerifyOptions{Resolver: s.sys.resolver})
}

// authenticate finishes DKIM verification, evaluates DMARC for the
// message whose header is h (hdrErr when it could not be read) and
// decides: the Authentication-Results and Received-SPF fields, the Junk
// folder for p=quarantine, 550 for p=reject, 451 when the policy could not
// be looked up and nothing passed.
func (s *session) authenticate(ctx context.Context, v *dkim.Verifier, h *message.Header, hdrErr error) *verdict {
	res := &authres.Results{AuthServID: s.sys.cfg.Hostname}
	spfPass := false
	if o := s.mailSPF; o != nil {
		spfPass = o.Result == spf.Pass
		res.Results = append(res.Results, spfResult(o, "mailfrom", o.Sender))
	}
	if o := s.heloSPF; o != nil && o.Domain != "" {
		res.Results = append(res.Results, spfResult(o, "helo", o.Helo))
	}

	dkimResults, verr := v.Finish(ctx)
	var dmarcDKIM []dmarc.DKIMResult
	dkimPass := false
	switch {
	case verr != nil:
		// The header was too large to be verified.
		res.Results = append(res.Results, authres.Result{Method: authres.MethodDKIM, Value: authres.PermError, Reason: verr.Error()})
	case len(dkimResults) == 0:
		res.Results = append(res.Results, authres.Result{Method: authres.MethodDKIM, Value: authres.None})
	}
	for _, r := range dkimResults {
		res.Results = append(res.Results, dkimResult(r))
		dkimPass = dkimPass || r.Status == dkim.StatusPass
		d := dmarc.DKIMResult{Domain: r.Domain(), Result: string(r.Status)}
		if r.Signature != nil {
			d.Selector = r.Signature.Selector
		}
		dmarcDKIM = append(dmarcDKIM, d)
	}

	vd := &verdict{}
	fromDomain, err := authorDomain(h, hdrErr)
	if err != nil {
		// RFC 7489 §6.6.1: without a single From domain there is no
		// policy to apply; the result says so.
		res.Results = append(res.Results, authres.Result{Method: authres.MethodDMARC, Value: authres.PermError, Reason: err.Error()})
		s.log.Info("dmarc", "result", "permerror", "err", err)
	} else {
		var spfRes dmarc.SPFResult
		if o := s.mailSPF; o != nil {
			spfRes = dmarc.SPFResult{Domain: o.Domain, Result: string(o.Result)}
		}
		o, err := s.sys.dmarc.Check(ctx, fromDomain, spfRes, dmarcDKIM)
		res.Results = append(res.Results, o.AuthResult())
		attrs := []any{"from_domain", fromDomain, "result", string(o.Result), "policy", string(o.Policy), "disposition", string(o.Disposition)}
		if err != nil {
			attrs = append(attrs, "err", err)
		}
		s.log.Info("dmarc", attrs...)
		switch {
		case o.Result == dmarc.Fail && o.Disposition == dmarc.PolicyReject:
			vd.refuse = errDMARCReject
		case o.Result == dmarc.Fail && o.Disposition == dmarc.PolicyQuarantine:
			vd.junk = true
		case o.Result == dmarc.TempError && errors.Is(err, dmarc.ErrDNS) && !spfPass && !dkimPass:
			vd.refuse = errDMARCTempFail
		}
	}
	// RFC 8601 §4.1 and RFC 7208 §9.1: both are trace fields, prepended
	// above the Received field of this hop, Authentication-Results on top.
	vd.fields.Add(authres.FieldName, res.String())
	if o := s.mailSPF; o != nil {
		vd.fields.Add("Received-SPF", o.ReceivedSPF())
	}
	return vd
}

// spfResult is the resinfo for one SPF check (RFC 8601 §2.7.2).
func spfResult(o *spf.Outcome, prop, value string) authres.Result {
	r := authres.Result{Method: authres.MethodSPF, Value: string(o.Result)}
	// The reason names the problem, not the resolver's own error, which
	// would tell the recipients the address of the name server.
	if e := (*spf.Error)(nil); errors.As(o.Err, &e) {
		r.Reason = e.Err.Error()
	}
	if value != "" {
		r.Properties = []authres.Property{{Type: authres.PTypeSMTP, Name: prop, Value: value}}
	}
	return r
}

// dkimResult is the resinfo for one DKIM signature (RFC 8601 §2.7.1, with
// header.b of RFC 6008 §4 to tell several signatures of one domain apart).
func dkimResult(r *dkim.Result) authres.Result {
	a := authres.Result{Method: authres.MethodDKIM, Value: string(r.Status)}
	if e := (*dkim.DNSError)(nil); errors.As(r.Err, &e) {
		a.Reason = "key lookup failed"
	} else if r.Err != nil {
		a.Reason = strings.TrimPrefix(r.Err.Error(), "dkim: ")
	}
	if sig := r.Signature; sig != nil {
		a.Properties = append(a.Properties,
			authres.Property{Type: authres.PTypeHeader, Name: "d", Value: sig.Domain},
			authres.Property{Type: authres.PTypeHeader, Name: "s", Value: sig.Selector})
		if b := base64Prefix(sig.Signature); b != "" {
			a.Properties = append(a.Properties, authres.Property{Type: authres.PTypeHeader, Name: "b", Value: b})
		}
	}
	return a
}

// base64Prefix returns the first 8 characters of sig in base64, as
// header.b carries them (RFC 6008 §4).
func base64Prefix(sig []byte) string {
	b := base64.StdEncoding.EncodeToString(sig)
	return b[:min(len(b), 8)]
}

// authorDomain returns the domain of the message's author: the From field
// must occur once and name mailboxes of one domain (RFC 7489 §6.6.1).
func authorDomain(h *message.Header, hdrErr error) (string, error) {
	if hdrErr != nil {
		return "", fmt.Errorf("header unreadable: %w", hdrErr)
	}
	if n := h.Count("From"); n != 1 {
		return "", fmt.Errorf("%d From fields", n)
	}
	list, err := message.ParseAddressList(h.Get("From"))
	if err != nil {
		return "", errors.New("From field unparsable")
	}
	domain := ""
	for _, a := range message.Mailboxes(list) {
		d := strings.ToLower(strings.TrimSuffix(a.Domain(), "."))
		switch {
		case d == "":
			return "", errors.New("From address without domain")
		case domain == "":
			domain = d
		case d != domain:
			return "", errors.New("From addresses of several domains")
		}
	}
	if domain == "" {
		return "", errors.New("no From address")
	}
	return domain, nil
}

// readHeader reads the header of the spooled message at r.
func readHeader(r io.Reader) (*message.Header, error) {
	return message.ReadHeader(bufio.NewReaderSize(r, 8<<10), message.Limits{})
}

// sideWriter passes the message to a Verifier or Signer beside the spool:
// its first error is kept and later writes are dropped, so that a header
// too large for it never stops the delivery.
type sideWriter struct {
	w   io.Writer
	err error
}

func (s *sideWriter) Write(p []byte) (int, error) {
	if s.err == nil {
		_, s.err = s.w.Write(p)
	}
	return len(p), nil
}

// withoutForgedResults returns the message in spool with the
// Authentication-Results fields of header h that claim authservID removed
// (RFC 8601 §5: a receiver deletes fields bearing its own authserv-id that
// came from outside, so that downstream agents trusting that id are not
// misled). It returns the spool itself, from its start, when there are none
// or the header does not lie at the start of the spool as read.
func withoutForgedResults(spool io.ReaderAt, h *message.Header, authservID string) (io.Reader, int) {
	whole := io.NewSectionReader(spool, 0, 1<<62)
	if h == nil {
		return whole, 0
	}
	var kept []byte
	var size int64
	removed := 0
	for i := range h.Len() {
		f := h.Field(i)
		size += int64(len(f.Raw))
		if strings.EqualFold(f.Name, authres.FieldName) {
			if r, _ := authres.Parse(f.Value); r != nil && strings.EqualFold(r.AuthServID, authservID) {
				removed++
				continue
			}
		}
		kept = append(kept, f.Raw...)
	}
	if removed == 0 {
		return whole, 0
	}
	// Check that the fields are the spool's first bytes before cutting.
	orig := make([]byte, size)
	if _, err := spool.ReadAt(orig, 0); err != nil || !sameFields(orig, h) {
		return whole, 0
	}
	return io.MultiReader(bytes.NewReader(kept), io.NewSectionReader(spool, size, 1<<62)), removed
}

// sameFields reports whether b is the raw fields of h, in order.
func sameFields(b []byte, h *message.Header) bool {
	for i := range h.Len() {
		raw := h.Field(i).Raw
		if raw == nil || !bytes.HasPrefix(b, raw) {
			return false
		}
		b = b[len(raw):]
	}
	return len(b) == 0
}

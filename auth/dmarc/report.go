package dmarc

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxReportSize bounds what ParseReport reads: 32 MiB of XML.
const DefaultMaxReportSize = 32 << 20

// maxReportSize is DefaultMaxReportSize, lowered by tests.
var maxReportSize int64 = DefaultMaxReportSize

// ErrReportTooLarge: an aggregate report exceeds the size limit.
var ErrReportTooLarge = errors.New("dmarc: aggregate report too large")

// Feedback is an aggregate report (RFC 7489 §7.2, the "feedback" element
// of the XML schema of Appendix C). Element names are the schema's; the
// types marshal and unmarshal with encoding/xml. Unmarshalling accepts
// the element with or without the schema's namespace.
type Feedback struct {
	XMLName         xml.Name        `xml:"feedback"`
	Version         string          `xml:"version,omitempty"` // xs:decimal, "1.0"
	ReportMetadata  ReportMetadata  `xml:"report_metadata"`
	PolicyPublished PolicyPublished `xml:"policy_published"`
	Records         []ReportRecord  `xml:"record"`
}

// ReportMetadata describes the reporter and the period (ReportMetadataType).
type ReportMetadata struct {
	OrgName          string    `xml:"org_name"`
	Email            string    `xml:"email"`
	ExtraContactInfo string    `xml:"extra_contact_info,omitempty"`
	ReportID         string    `xml:"report_id"`
	DateRange        DateRange `xml:"date_range"`
	Errors           []string  `xml:"error,omitempty"`
}

// DateRange is the period covered, in seconds since the Unix epoch, UTC
// (DateRangeType).
type DateRange struct {
	Begin int64 `xml:"begin"`
	End   int64 `xml:"end"`
}

// PolicyPublished is the DMARC record that applied (PolicyPublishedType).
// NP, the np tag of RFC 9091, is not in the schema of RFC 7489; it is
// written only when set.
type PolicyPublished struct {
	Domain string    `xml:"domain"`
	ADKIM  AlignMode `xml:"adkim,omitempty"`
	ASPF   AlignMode `xml:"aspf,omitempty"`
	P      Policy    `xml:"p"`
	SP     Policy    `xml:"sp"`
	NP     Policy    `xml:"np,omitempty"`
	Pct    int       `xml:"pct"`
	FO     string    `xml:"fo"`
}

// ReportRecord is one row of results for a source address (RecordType).
type ReportRecord struct {
	Row         Row         `xml:"row"`
	Identifiers Identifiers `xml:"identifiers"`
	AuthResults AuthResults `xml:"auth_results"`
}

// Row counts the messages from one source with one evaluation (RowType).
type Row struct {
	SourceIP        string          `xml:"source_ip"`
	Count           int64           `xml:"count"`
	PolicyEvaluated PolicyEvaluated `xml:"policy_evaluated"`
}

// PolicyEvaluated is the outcome of DMARC for the row
// (PolicyEvaluatedType): the disposition, and whether DKIM and SPF passed
// with alignment ("pass" or "fail").
type PolicyEvaluated struct {
	Disposition Policy                 `xml:"disposition"`
	DKIM        string                 `xml:"dkim"`
	SPF         string                 `xml:"spf"`
	Reasons     []PolicyOverrideReason `xml:"reason,omitempty"`
}

// Policy override types (PolicyOverrideType).
const (
	OverrideForwarded        = "forwarded"
	OverrideSampledOut       = "sampled_out"
	OverrideTrustedForwarder = "trusted_forwarder"
	OverrideMailingList      = "mailing_list"
	OverrideLocalPolicy      = "local_policy"
	OverrideOther            = "other"
)

// PolicyOverrideReason says why the disposition differs from the policy
// (PolicyOverrideReason).
type PolicyOverrideReason struct {
	Type    string `xml:"type"`
	Comment string `xml:"comment,omitempty"`
}

// Identifiers are the domains of the messages (IdentifierType).
type Identifiers struct {
	EnvelopeTo   string `xml:"envelope_to,omitempty"`
	EnvelopeFrom string `xml:"envelope_from"`
	HeaderFrom   string `xml:"header_from"`
}

// AuthResults are the DKIM and SPF results, unaligned (AuthResultType).
type AuthResults struct {
	DKIM []DKIMAuthResult `xml:"dkim,omitempty"`
	SPF  []SPFAuthResult  `xml:"spf"`
}

// DKIMAuthResult is the result of one signature (DKIMAuthResultType).
type DKIMAuthResult struct {
	Domain      string `xml:"domain"`
	Selector    string `xml:"selector,omitempty"`
	Result      string `xml:"result"`
	HumanResult string `xml:"human_result,omitempty"`
}

// SPFAuthResult is the result of an SPF check (SPFAuthResultType); Scope
// is "mfrom" or "helo".
type SPFAuthResult struct {
	Domain string `xml:"domain"`
	Scope  string `xml:"scope"`
	Result string `xml:"result"`
}

// ParseReport reads an aggregate report (the XML, decompressed) of at
// most DefaultMaxReportSize bytes.
func ParseReport(r io.Reader) (*Feedback, error) {
	lr := &io.LimitedReader{R: r, N: maxReportSize + 1}
	var f Feedback
	dec := xml.NewDecoder(lr)
	err := dec.Decode(&f)
	if lr.N <= 0 {
		return nil, ErrReportTooLarge
	}
	if err != nil {
		return nil, fmt.Errorf("dmarc: aggregate report: %w", err)
	}
	return &f, nil
}

// Marshal returns the report as an XML document, with the XML
// declaration, indented.
func (f *Feedback) Marshal() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("dmarc: aggregate report: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// PolicyPublished returns the policy_published element for r found at
// domain.
func (r *Record) PolicyPublished(domain string) PolicyPublished {
	sp := r.SubdomainPolicy
	if sp == "" {
		sp = r.Policy
	}
	fo := "0"
	if len(r.FailureOptions) > 0 {
		fo = joinColon(r.FailureOptions)
	}
	return PolicyPublished{
		Domain: domain, ADKIM: orRelaxed(r.DKIMAlignment), ASPF: orRelaxed(r.SPFAlignment),
		P: r.Policy, SP: sp, NP: r.NonexistentPolicy, Pct: r.Percent, FO: fo,
	}
}

// PolicyEvaluated returns the policy_evaluated element for the outcome.
func (o *Outcome) PolicyEvaluated() PolicyEvaluated {
	pe := PolicyEvaluated{Disposition: o.Disposition, DKIM: "fail", SPF: "fail"}
	if pe.Disposition == "" {
		pe.Disposition = PolicyNone
	}
	if o.DKIMAligned {
		pe.DKIM = "pass"
	}
	if o.SPFAligned {
		pe.SPF = "pass"
	}
	if o.SampledOut {
		pe.Reasons = append(pe.Reasons, PolicyOverrideReason{Type: OverrideSampledOut})
	}
	return pe
}

func orRelaxed(m AlignMode) AlignMode {
	if m == "" {
		return Relaxed
	}
	return m
}

func joinColon(s []string) string {
	var b bytes.Buffer
	for i, e := range s {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(e)
	}
	return b.String()
}

package dmarc

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReportRoundTrip(t *testing.T) {
	data, err := os.ReadFile("testdata/aggregate.xml")
	require.NoError(t, err)
	f, err := ParseReport(bytes.NewReader(data))
	require.NoError(t, err)

	assert.Equal(t, "1.0", f.Version)
	assert.Equal(t, "receiver.example", f.ReportMetadata.OrgName)
	assert.Equal(t, DateRange{Begin: 1714521600, End: 1714607999}, f.ReportMetadata.DateRange)
	assert.Equal(t, []string{"ruf destination not verified"}, f.ReportMetadata.Errors)
	assert.Equal(t, PolicyPublished{Domain: "example.com", ADKIM: Relaxed, ASPF: Strict, P: PolicyReject,
		SP: PolicyQuarantine, Pct: 50, FO: "1:d"}, f.PolicyPublished)
	require.Len(t, f.Records, 2)
	r0 := f.Records[0]
	assert.Equal(t, Row{SourceIP: "192.0.2.25", Count: 12, PolicyEvaluated: PolicyEvaluated{Disposition: PolicyNone, DKIM: "pass", SPF: "pass"}}, r0.Row)
	assert.Equal(t, Identifiers{EnvelopeTo: "receiver.example", EnvelopeFrom: "bounces.example.com", HeaderFrom: "example.com"}, r0.Identifiers)
	assert.Equal(t, []DKIMAuthResult{
		{Domain: "example.com", Selector: "s2024", Result: "pass"},
		{Domain: "esp.example.net", Result: "fail", HumanResult: "body hash did not verify"},
	}, r0.AuthResults.DKIM)
	assert.Equal(t, []SPFAuthResult{{Domain: "bounces.example.com", Scope: "mfrom", Result: "pass"}}, r0.AuthResults.SPF)
	assert.Equal(t, []PolicyOverrideReason{{Type: OverrideSampledOut}, {Type: OverrideMailingList, Comment: "list.example.org"}},
		f.Records[1].Row.PolicyEvaluated.Reasons)
	assert.Empty(t, f.Records[1].AuthResults.DKIM)

	out, err := f.Marshal()
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(out, []byte(xml.Header)))
	again, err := ParseReport(bytes.NewReader(out))
	require.NoError(t, err)
	again.XMLName = f.XMLName // the namespace is not written back
	assert.Equal(t, f, again)

	// Every element written is one of Appendix C's.
	schema := map[string]bool{}
	for _, n := range strings.Fields(`feedback version report_metadata org_name email extra_contact_info report_id
		date_range begin end error policy_published domain adkim aspf p sp pct fo record row source_ip count
		policy_evaluated disposition dkim spf reason type comment identifiers envelope_to envelope_from
		header_from auth_results selector result human_result scope`) {
		schema[n] = true
	}
	var names []string
	dec := xml.NewDecoder(bytes.NewReader(out))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		if se, ok := tok.(xml.StartElement); ok {
			assert.True(t, schema[se.Name.Local], se.Name.Local)
			names = append(names, se.Name.Local)
		}
	}
	sort.Strings(names)
	assert.Contains(t, names, "policy_evaluated")
}

func TestReportFromOutcome(t *testing.T) {
	c := &Checker{Resolver: checkResolver(), Sample: func() int { return 99 }}
	o, err := c.Check(context.Background(), "pct.test", SPFResult{Domain: "pct.test", Result: "fail"}, nil)
	require.NoError(t, err)
	pe := o.PolicyEvaluated()
	assert.Equal(t, PolicyEvaluated{Disposition: PolicyQuarantine, DKIM: "fail", SPF: "fail",
		Reasons: []PolicyOverrideReason{{Type: OverrideSampledOut}}}, pe)
	pp := o.Record.PolicyPublished(o.RecordDomain)
	assert.Equal(t, PolicyPublished{Domain: "pct.test", ADKIM: Relaxed, ASPF: Relaxed, P: PolicyReject, SP: PolicyReject, Pct: 30, FO: "0"}, pp)

	f := &Feedback{Version: "1.0", PolicyPublished: pp, Records: []ReportRecord{{
		Row:         Row{SourceIP: "192.0.2.1", Count: 1, PolicyEvaluated: pe},
		Identifiers: Identifiers{EnvelopeFrom: "pct.test", HeaderFrom: "pct.test"},
		AuthResults: AuthResults{SPF: []SPFAuthResult{{Domain: "pct.test", Scope: "mfrom", Result: "fail"}}},
	}}}
	out, err := f.Marshal()
	require.NoError(t, err)
	again, err := ParseReport(bytes.NewReader(out))
	require.NoError(t, err)
	f.XMLName = again.XMLName
	assert.Equal(t, f, again)
}

func TestParseReportErrors(t *testing.T) {
	for _, s := range []string{
		"",
		"<feedback>",
		"<feedback><record><row><count>x</count></row></record></feedback>",
		"<other/>",
	} {
		_, err := ParseReport(strings.NewReader(s))
		assert.Error(t, err, s)
	}

	defer func(n int64) { maxReportSize = n }(maxReportSize)
	maxReportSize = 1000
	big := "<feedback><report_metadata><org_name>" + strings.Repeat("x", 2000) + "</org_name></report_metadata></feedback>"
	_, err := ParseReport(strings.NewReader(big))
	assert.ErrorIs(t, err, ErrReportTooLarge)
}

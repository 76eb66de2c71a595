package dmarc

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func defaults(edit func(r *Record)) *Record {
	r := &Record{
		DKIMAlignment: Relaxed, SPFAlignment: Relaxed, Percent: 100,
		FailureOptions: []string{"0"}, ReportFormats: []string{"afrf"}, ReportInterval: 86400,
	}
	edit(r)
	return r
}

func TestParseRecordValid(t *testing.T) {
	for _, tc := range []struct {
		txt  string
		want *Record
	}{
		{"v=DMARC1; p=none", defaults(func(r *Record) { r.Policy = PolicyNone })},
		{"v=DMARC1;p=reject", defaults(func(r *Record) { r.Policy = PolicyReject })},
		{"v=DMARC1; p=quarantine;", defaults(func(r *Record) { r.Policy = PolicyQuarantine })},
		{"  v = DMARC1 ;\tp =\tREJECT ; ", defaults(func(r *Record) { r.Policy = PolicyReject })},
		// RFC 7489 Appendix B.2.1 - B.2.4 records.
		{"v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com", defaults(func(r *Record) {
			r.Policy = PolicyNone
			r.AggregateURIs = []URI{{URI: "mailto:dmarc-feedback@example.com"}}
		})},
		{"v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com; ruf=mailto:auth-reports@thirdparty.example.net", defaults(func(r *Record) {
			r.Policy = PolicyNone
			r.AggregateURIs = []URI{{URI: "mailto:dmarc-feedback@example.com"}}
			r.FailureURIs = []URI{{URI: "mailto:auth-reports@thirdparty.example.net"}}
		})},
		{"v=DMARC1; p=quarantine; rua=mailto:dmarc-feedback@example.com, mailto:tld-test@thirdparty.example.net!10m; pct=25", defaults(func(r *Record) {
			r.Policy = PolicyQuarantine
			r.AggregateURIs = []URI{{URI: "mailto:dmarc-feedback@example.com"}, {URI: "mailto:tld-test@thirdparty.example.net", MaxSize: 10 << 20}}
			r.Percent = 25
		})},
		{"v=DMARC1; p=reject; sp=quarantine; np=reject; adkim=s; aspf=S; pct=0; ri=3600; fo=0:1 : d:S; rf=AFRF; ruf=https://r.example/x!5, mailto:a@b.example!1t; x_new=whatever", defaults(func(r *Record) {
			r.Policy = PolicyReject
			r.SubdomainPolicy = PolicyQuarantine
			r.NonexistentPolicy = PolicyReject
			r.DKIMAlignment, r.SPFAlignment = Strict, Strict
			r.Percent = 0
			r.ReportInterval = 3600
			r.FailureOptions = []string{"0", "1", "d", "s"}
			r.FailureURIs = []URI{{URI: "https://r.example/x", MaxSize: 5}, {URI: "mailto:a@b.example", MaxSize: 1 << 40}}
		})},
		// RFC 7489 §6.6.3 step 6: no p but a valid rua: p=none.
		{"v=DMARC1; rua=mailto:r@example.com", defaults(func(r *Record) {
			r.Policy = PolicyNone
			r.PolicyImplied = true
			r.AggregateURIs = []URI{{URI: "mailto:r@example.com"}}
		})},
		// Unknown tags are ignored (§6.3).
		{"v=DMARC1; p=none; t=y; psd=n; future_tag=1", defaults(func(r *Record) { r.Policy = PolicyNone })},
	} {
		got, err := ParseRecord(tc.txt)
		require.NoError(t, err, tc.txt)
		assert.Equal(t, tc.want, got, tc.txt)
		assert.True(t, IsRecord(tc.txt), tc.txt)
		// The canonical form parses to the same record.
		again, err := ParseRecord(got.String())
		require.NoError(t, err, got.String())
		if !got.PolicyImplied {
			assert.Equal(t, got, again, got.String())
		}
	}
}

func TestParseRecordFatal(t *testing.T) {
	for _, tc := range []struct {
		txt    string
		err    error
		tag    string
		offset int
	}{
		{"", ErrNotDMARC, "", 0},
		{"p=reject; v=DMARC1", ErrNotDMARC, "p", 0},
		{"v=DMARC2; p=reject", ErrNotDMARC, "v", 0},
		{"v=dmarc1; p=reject", ErrNotDMARC, "v", 0},
		{"v=DMARC1 p=reject", ErrNotDMARC, "v", 0},
		{"v=spf1 -all", ErrNotDMARC, "v", 0},
		{"DMARC1; p=reject", ErrNotDMARC, "", 0},
		{"; v=DMARC1; p=reject", ErrNotDMARC, "", 0},
		{"v=DMARC1", ErrNoPolicy, "p", 8},
		{"v=DMARC1;", ErrNoPolicy, "p", 9},
		{"v=DMARC1; p=bogus", ErrNoPolicy, "p", 12},
		{"v=DMARC1; p=", ErrNoPolicy, "p", 12},
		{"v=DMARC1; p=reject; sp=always", ErrNoPolicy, "sp", 23},
		{"v=DMARC1; p=reject rua=mailto:a@b.example", ErrNoPolicy, "p", 12},
		{"v=DMARC1; rua=relative/path", ErrNoPolicy, "p", 27},
	} {
		rec, err := ParseRecord(tc.txt)
		assert.Nil(t, rec, tc.txt)
		var se *SyntaxError
		require.ErrorAs(t, err, &se, tc.txt)
		assert.ErrorIs(t, err, tc.err, tc.txt)
		{
			assert.Equal(t, tc.tag, se.Tag, tc.txt)
			assert.Equal(t, tc.offset, se.Offset, "%s: %v", tc.txt, err)
		}
	}
}

// The p=none; rua=not a uri case above is not fatal at all: p is valid.
func TestParseRecordInvalidRUA(t *testing.T) {
	rec, err := ParseRecord("v=DMARC1; p=none; rua=not a uri, mailto:ok@example.com, x:!12q")
	require.NotNil(t, rec)
	var se *SyntaxError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "rua", se.Tag)
	assert.Equal(t, []URI{{URI: "mailto:ok@example.com"}}, rec.AggregateURIs)
}

// Errors in optional tags give defaults and a *SyntaxError, the record
// staying usable (RFC 7489 §6.3).
func TestParseRecordNonFatal(t *testing.T) {
	for _, tc := range []struct {
		txt    string
		tag    string
		offset int
		want   *Record
	}{
		{"v=DMARC1; p=reject; pct=101", "pct", 24, defaults(func(r *Record) { r.Policy = PolicyReject })},
		{"v=DMARC1; p=reject; pct=-1", "pct", 24, defaults(func(r *Record) { r.Policy = PolicyReject })},
		{"v=DMARC1; p=reject; pct=0100", "pct", 24, defaults(func(r *Record) { r.Policy = PolicyReject })},
		{"v=DMARC1; p=reject; pct=+5", "pct", 24, defaults(func(r *Record) { r.Policy = PolicyReject })},
		{"v=DMARC1; p=reject; adkim=x", "adkim", 26, defaults(func(r *Record) { r.Policy = PolicyReject })},
		{"v=DMARC1; p=reject; aspf=relaxed", "aspf", 25, defaults(func(r *Record) { r.Policy = PolicyReject })},
		{"v=DMARC1; p=reject; ri=4294967296", "ri", 23, defaults(func(r *Record) { r.Policy = PolicyReject })},
		{"v=DMARC1; p=reject; ri=1h", "ri", 23, defaults(func(r *Record) { r.Policy = PolicyReject })},
		{"v=DMARC1; p=reject; fo=2", "fo", 23, defaults(func(r *Record) { r.Policy = PolicyReject })},
		{"v=DMARC1; p=reject; fo=0::1", "fo", 23, defaults(func(r *Record) { r.Policy = PolicyReject })},
		{"v=DMARC1; p=reject; rf=iodef", "rf", 23, defaults(func(r *Record) { r.Policy = PolicyReject })},
		{"v=DMARC1; p=reject; np=deny", "np", 23, defaults(func(r *Record) { r.Policy = PolicyReject })},
		{"v=DMARC1; p=reject; p=none", "p", 22, defaults(func(r *Record) { r.Policy = PolicyReject })},
		{"v=DMARC1; p=reject; v=DMARC1", "v", 22, defaults(func(r *Record) { r.Policy = PolicyReject })},
		{"v=DMARC1; p=reject; junk", "", 20, defaults(func(r *Record) { r.Policy = PolicyReject })},
		{"v=DMARC1; p=reject; 9x=1", "", 20, defaults(func(r *Record) { r.Policy = PolicyReject })},
		{"v=DMARC1; pct=50; p=quarantine", "p", 20, defaults(func(r *Record) { r.Policy = PolicyQuarantine; r.Percent = 50 })},
		{"v=DMARC1; p=reject; rua=mailto:a@b.example!", "rua", 24, defaults(func(r *Record) { r.Policy = PolicyReject })},
		{"v=DMARC1; p=reject; rua=mailto:a@b.example!99999999999999999999", "rua", 24, defaults(func(r *Record) { r.Policy = PolicyReject })},
		{"v=DMARC1; p=reject; rua=mailto:a@b.example!17179869184t", "rua", 24, defaults(func(r *Record) { r.Policy = PolicyReject })},
		// An invalid p with a valid rua: p=none (§6.6.3 step 6.1), reported.
		{"v=DMARC1; p=bogus; sp=reject; rua=mailto:r@example.com", "p", 12, defaults(func(r *Record) {
			r.Policy = PolicyNone
			r.PolicyImplied = true
			r.AggregateURIs = []URI{{URI: "mailto:r@example.com"}}
		})},
		{"v=DMARC1; p=reject; sp=bogus; rua=mailto:r@example.com", "sp", 23, defaults(func(r *Record) {
			r.Policy = PolicyNone
			r.PolicyImplied = true
			r.AggregateURIs = []URI{{URI: "mailto:r@example.com"}}
		})},
	} {
		rec, err := ParseRecord(tc.txt)
		var se *SyntaxError
		require.ErrorAs(t, err, &se, tc.txt)
		assert.NotErrorIs(t, err, ErrNotDMARC)
		assert.NotErrorIs(t, err, ErrNoPolicy)
		assert.Equal(t, tc.tag, se.Tag, "%s: %v", tc.txt, err)
		assert.Equal(t, tc.offset, se.Offset, "%s: %v", tc.txt, err)
		assert.Equal(t, tc.want, rec, tc.txt)
	}
}

func TestIsRecord(t *testing.T) {
	for txt, want := range map[string]bool{
		"v=DMARC1; p=none":  true,
		"v=DMARC1":          true,
		" V = DMARC1 ;":     true,
		"v=DMARC10; p=none": false,
		"v=DMARC2; p=none":  false,
		"v=spf1 -all":       false,
		"p=none; v=DMARC1":  false,
		"":                  false,
		"v":                 false,
		"v DMARC1":          false,
	} {
		assert.Equal(t, want, IsRecord(txt), txt)
	}
}

func TestRecordString(t *testing.T) {
	rec, err := ParseRecord("v=DMARC1; p=reject; sp=none; np=quarantine; adkim=s; aspf=r; pct=10; " +
		"rua=mailto:a@example.com!2048,mailto:b@example.com!1000; ruf=mailto:c@example.com; fo=1:d; ri=600")
	require.NoError(t, err)
	assert.Equal(t, "v=DMARC1; p=reject; sp=none; np=quarantine; adkim=s; pct=10; "+
		"rua=mailto:a@example.com!2k,mailto:b@example.com!1000; ruf=mailto:c@example.com; fo=1:d; ri=600", rec.String())
	assert.Equal(t, "v=DMARC1; p=none", (&Record{Percent: 100, ReportInterval: 86400}).String())
}

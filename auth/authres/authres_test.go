package authres

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fields of RFC 8601 Appendix B, as printed (folded with the
// example's indentation, CRLF line ends).
var appendixB = []struct {
	name  string
	value string
	want  *Results
}{
	{
		name:  "B.2 no authentication done",
		value: " example.org 1; none",
		want:  &Results{AuthServID: "example.org", Version: 1},
	},
	{
		name:  "B.3 service provided, authentication done",
		value: " example.com;\r\n          spf=pass smtp.mailfrom=example.net",
		want: &Results{AuthServID: "example.com", Results: []Result{
			{Method: MethodSPF, Value: Pass, Properties: []Property{{PTypeSMTP, "mailfrom", "example.net"}}},
		}},
	},
	{
		name: "B.4 several authentications, first field",
		value: " example.com;\r\n          auth=pass (cram-md5) smtp.auth=sender@example.net;\r\n" +
			"          spf=pass smtp.mailfrom=example.net",
		want: &Results{AuthServID: "example.com", Results: []Result{
			{Method: MethodAuth, Value: Pass, Comment: "cram-md5", Properties: []Property{{PTypeSMTP, "auth", "sender@example.net"}}},
			{Method: MethodSPF, Value: Pass, Properties: []Property{{PTypeSMTP, "mailfrom", "example.net"}}},
		}},
	},
	{
		name:  "B.4 several authentications, second field",
		value: " example.com; iprev=pass\r\n          policy.iprev=192.0.2.200",
		want: &Results{AuthServID: "example.com", Results: []Result{
			{Method: MethodIPRev, Value: Pass, Properties: []Property{{PTypePolicy, "iprev", "192.0.2.200"}}},
		}},
	},
	{
		name:  "B.5 different MTAs, first field",
		value: " example.com;\r\n          dkim=pass (good signature) header.d=example.com",
		want: &Results{AuthServID: "example.com", Results: []Result{
			{Method: MethodDKIM, Value: Pass, Comment: "good signature", Properties: []Property{{PTypeHeader, "d", "example.com"}}},
		}},
	},
	{
		name: "B.5 different MTAs, second field",
		value: " example.com;\r\n          auth=pass (cram-md5) smtp.auth=sender@example.com;\r\n" +
			"          spf=fail smtp.mailfrom=example.com",
		want: &Results{AuthServID: "example.com", Results: []Result{
			{Method: MethodAuth, Value: Pass, Comment: "cram-md5", Properties: []Property{{PTypeSMTP, "auth", "sender@example.com"}}},
			{Method: MethodSPF, Value: Fail, Properties: []Property{{PTypeSMTP, "mailfrom", "example.com"}}},
		}},
	},
	{
		name: "B.6 multi-tiered, first field",
		value: " example.com;\r\n      dkim=pass reason=\"good signature\"\r\n        header.i=@mail-router.example.net;\r\n" +
			"      dkim=fail reason=\"bad signature\"\r\n        header.i=@newyork.example.com",
		want: &Results{AuthServID: "example.com", Results: []Result{
			{Method: MethodDKIM, Value: Pass, Reason: "good signature", Properties: []Property{{PTypeHeader, "i", "@mail-router.example.net"}}},
			{Method: MethodDKIM, Value: Fail, Reason: "bad signature", Properties: []Property{{PTypeHeader, "i", "@newyork.example.com"}}},
		}},
	},
	{
		name:  "B.6 multi-tiered, second field",
		value: " example.net;\r\n      dkim=pass (good signature) header.i=@newyork.example.com",
		want: &Results{AuthServID: "example.net", Results: []Result{
			{Method: MethodDKIM, Value: Pass, Comment: "good signature", Properties: []Property{{PTypeHeader, "i", "@newyork.example.com"}}},
		}},
	},
	{
		name: "B.7 comment-heavy",
		value: " foo.example.net (foobar) 1 (baz);\r\n    dkim (Because I like it) / 1 (One yay) = (wait for it) fail\r\n" +
			"      policy (A dot can go here) . (like that) expired\r\n" +
			"      (this surprised me) = (as I wasn't expecting it) 1362471462",
		want: &Results{AuthServID: "foo.example.net", Version: 1, Results: []Result{{
			Method: MethodDKIM, Version: 1, Value: Fail,
			Comment:    "Because I like it One yay wait for it A dot can go here like that this surprised me as I wasn't expecting it",
			Properties: []Property{{PTypePolicy, "expired", "1362471462"}},
		}}},
	},
	{
		name:  "§2.4 policy ptype",
		value: "example.com; dkim=policy policy.dkim-rules=unsigned-subject",
		want: &Results{AuthServID: "example.com", Results: []Result{
			{Method: MethodDKIM, Value: Policy, Properties: []Property{{PTypePolicy, "dkim-rules", "unsigned-subject"}}},
		}},
	},
	{
		name:  "§2.7.4 auth with two identities",
		value: "example.com; auth=pass smtp.auth=client@c.example smtp.mailfrom=bob@b.example",
		want: &Results{AuthServID: "example.com", Results: []Result{
			{Method: MethodAuth, Value: Pass, Properties: []Property{{PTypeSMTP, "auth", "client@c.example"}, {PTypeSMTP, "mailfrom", "bob@b.example"}}},
		}},
	},
	{
		name:  "§2.7.6 extension method with comment",
		value: "example.com;\r\n          foo=pass bar.baz=blob (2 of 3 tests OK)",
		want: &Results{AuthServID: "example.com", Results: []Result{
			{Method: "foo", Value: Pass, Comment: "2 of 3 tests OK", Properties: []Property{{"bar", "baz", "blob"}}},
		}},
	},
}

func TestParseAppendixB(t *testing.T) {
	for _, tc := range appendixB {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.value)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			// Round trip through both forms.
			for _, s := range []string{got.String(), mustFormat(t, got)} {
				again, err := Parse(s)
				require.NoError(t, err, s)
				assert.Equal(t, got, again, s)
			}
		})
	}
}

func mustFormat(t *testing.T, r *Results) string {
	t.Helper()
	s, err := r.Format()
	require.NoError(t, err)
	return s
}

// Fields as major receivers write them.
func TestParseInTheWild(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  *Results
	}{
		{
			"mx.google.com;\r\n       dkim=pass header.i=@example.com header.s=20230601 header.b=Ab+/cd9=;\r\n" +
				"       spf=pass (google.com: domain of a@example.com designates 2001:db8::1 as permitted sender) smtp.mailfrom=a@example.com;\r\n" +
				"       dmarc=pass (p=NONE sp=QUARANTINE dis=NONE) header.from=example.com",
			&Results{AuthServID: "mx.google.com", Results: []Result{
				{Method: "dkim", Value: "pass", Properties: []Property{{"header", "i", "@example.com"}, {"header", "s", "20230601"}, {"header", "b", "Ab+/cd9="}}},
				{Method: "spf", Value: "pass", Comment: "google.com: domain of a@example.com designates 2001:db8::1 as permitted sender",
					Properties: []Property{{"smtp", "mailfrom", "a@example.com"}}},
				{Method: "dmarc", Value: "pass", Comment: "p=NONE sp=QUARANTINE dis=NONE", Properties: []Property{{"header", "from", "example.com"}}},
			}},
		},
		{
			"spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=example.com; dkim=none (message not signed) header.d=none;" +
				"dmarc=pass action=none header.from=example.com;compauth=pass reason=100",
			nil, // no authserv-id (as Exchange Online writes them): rejected
		},
		{
			"example.com; SPF=Pass smtp.MailFrom=\"a b\"@example.net; dkim=pass header.i=\"x\";",
			&Results{AuthServID: "example.com", Results: []Result{
				{Method: "spf", Value: "pass", Properties: []Property{{"smtp", "mailfrom", `"a b"@example.net`}}},
				{Method: "dkim", Value: "pass", Properties: []Property{{"header", "i", "x"}}},
			}},
		},
		{
			"example.com; iprev=pass policy.iprev=2001:db8::25 (mx.example.net)",
			&Results{AuthServID: "example.com", Results: []Result{
				{Method: "iprev", Value: "pass", Comment: "mx.example.net", Properties: []Property{{"policy", "iprev", "2001:db8::25"}}},
			}},
		},
		{
			"example.com; dmarc=pass action=none header.from=example.com; compauth=pass reason=100",
			&Results{AuthServID: "example.com", Results: []Result{
				{Method: "dmarc", Value: "pass", Properties: []Property{{"", "action", "none"}, {"header", "from", "example.com"}}},
				{Method: "compauth", Value: "pass", Reason: "100"},
			}},
		},
		{
			"\"exämple.org\"; arc=pass (i=1 spf=pass) header.oldest-pass=0 smtp.remote-ip=192.0.2.1",
			&Results{AuthServID: "exämple.org", Results: []Result{
				{Method: "arc", Value: "pass", Comment: "i=1 spf=pass", Properties: []Property{{"header", "oldest-pass", "0"}, {"smtp", "remote-ip", "192.0.2.1"}}},
			}},
		},
	} {
		got, err := Parse(tc.value)
		if tc.want == nil {
			var se *SyntaxError
			require.ErrorAs(t, err, &se, tc.value)
			assert.Equal(t, 0, se.Offset)
			assert.Contains(t, se.Msg, "authserv-id")
			continue
		}
		require.NoError(t, err, tc.value)
		assert.Equal(t, tc.want, got, tc.value)
		again, err := Parse(got.String())
		require.NoError(t, err)
		assert.Equal(t, got, again)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		value  string
		offset int
	}{
		{"", 0},
		{"   ", 3},
		{"; spf=pass", 0},
		{"spf=pass; dkim=pass", 0},
		{"example.com", 11},
		{"example.com spf=pass", 12},
		{"example.com;", 12},
		{"example.com; ", 13},
		{"example.com; spf", 16},
		{"example.com; spf=", 17},
		{"example.com; spf pass", 17},
		{"example.com; =pass", 13},
		{"example.com; spf=pass smtp", 26},
		{"example.com; spf=pass smtp.", 27},
		{"example.com; spf=pass smtp.mailfrom", 35},
		{"example.com; spf=pass smtp.mailfrom=", 36},
		{"example.com; spf=pass smtp.mailfrom=;", 36},
		{"example.com; spf=pass smtp.mailfrom=\"x", 36},
		{"example.com; spf=pass (unclosed", 22},
		{"example.com; spf=pass ((nested)", 22},
		{"example.com; spf=pass reason=a reason=b", 31},
		{"example.com; spf=pass \x01", 22},
		{"example.com; spf=pass reason=\"a\x00b\"", 31},
		{"example.com; spf=pass (a\x7fb)", 24},
		{"example.com; spf=pass reason=\"\xff\"", 29},
		{"example.com; spf=pass\r\nX-Injected: yes", 21},
		{"example.com; spf=pass\nsmtp.mailfrom=x", 21},
		{"example.com; spf=pass reason=\"a\r\nb\"", 31},
		{"example.com; none; spf=pass", 13},
		{"example.com; spf=pass; none", 23},
		{"example.com; none=", 18},
		{"example.com; dkim/=pass", 18},
		{"example.com; dkim/1234567890=pass", 18},
		{"example.com 1234567890; none", 12},
		{"example.com; spf=pass smtp.mailfrom=\\x", 36},
		{"example.com; spf=pass @x", 22},
		{"example.com; spf=pass x.=y", 24},
	} {
		_, err := Parse(tc.value)
		var se *SyntaxError
		require.ErrorAs(t, err, &se, "%q", tc.value)
		assert.Equal(t, tc.offset, se.Offset, "%q: %v", tc.value, err)
		assert.NotErrorIs(t, err, ErrUnknownVersion)
	}
}

func TestParseUnknownVersion(t *testing.T) {
	for _, v := range []string{"example.com 2; spf=pass", "example.com 0; none"} {
		got, err := Parse(v)
		require.ErrorIs(t, err, ErrUnknownVersion)
		var se *SyntaxError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, 12, se.Offset)
		require.NotNil(t, got)
		assert.Equal(t, "example.com", got.AuthServID)
	}
}

func TestParseLineEnds(t *testing.T) {
	// A trailing line end, LF folds, tabs.
	for _, v := range []string{
		"example.com; spf=pass\r\n",
		"example.com;\n\tspf=pass\n",
		"\texample.com\t;\tspf\t=\tpass\t",
		"example.com; spf=pass;",
	} {
		got, err := Parse(v)
		require.NoError(t, err, "%q", v)
		assert.Equal(t, &Results{AuthServID: "example.com", Results: []Result{{Method: "spf", Value: "pass"}}}, got, "%q", v)
	}
}

func TestFormat(t *testing.T) {
	r := &Results{AuthServID: "mx.example.org", Results: []Result{
		{Method: MethodSPF, Value: Pass, Comment: "mx.example.org: domain of a@example.com designates 192.0.2.1 as permitted sender",
			Properties: []Property{{PTypeSMTP, "mailfrom", "a@example.com"}}},
		{Method: MethodDKIM, Value: Fail, Reason: "signature did not verify",
			Properties: []Property{{PTypeHeader, "d", "example.com"}, {PTypeHeader, "s", "sel"}, {PTypeHeader, "b", "ab/+c="}}},
		{Method: MethodDMARC, Value: Pass, Properties: []Property{{PTypeHeader, "from", "example.com"}}},
		{Method: MethodIPRev, Value: Pass, Properties: []Property{{PTypePolicy, "iprev", "2001:db8::1"}}},
	}}
	one := r.String()
	assert.Equal(t, `mx.example.org; spf=pass (mx.example.org: domain of a@example.com designates 192.0.2.1 as permitted sender) smtp.mailfrom=a@example.com;`+
		` dkim=fail reason="signature did not verify" header.d=example.com header.s=sel header.b="ab/+c=";`+
		` dmarc=pass header.from=example.com; iprev=pass policy.iprev="2001:db8::1"`, one)
	folded, err := r.Format()
	require.NoError(t, err)
	assert.Equal(t, one, strings.ReplaceAll(folded, "\r\n", ""), "unfolding gives the one-line form")
	lines := strings.Split(FieldName+": "+folded, "\r\n")
	require.Greater(t, len(lines), 2)
	for _, l := range lines {
		assert.LessOrEqual(t, len(l), MaxLineLength, "%q", l)
		assert.NotEqual(t, "", strings.TrimSpace(l))
	}
	for _, l := range lines[1:] {
		assert.Equal(t, byte(' '), l[0])
	}
	again, err := Parse(folded)
	require.NoError(t, err)
	assert.Equal(t, r, again)

	// Short values stay on one line; none.
	s, err := (&Results{AuthServID: "example.org"}).Format()
	require.NoError(t, err)
	assert.Equal(t, "example.org; none", s)
	s, err = (&Results{AuthServID: "example.org", Version: 1, Results: []Result{{Method: "dkim", Version: 1, Value: "pass"}}}).Format()
	require.NoError(t, err)
	assert.Equal(t, "example.org 1; dkim/1=pass", s)

	// Quoting.
	r = &Results{AuthServID: "auth serv", Results: []Result{{Method: "x-foo", Value: "pass", Reason: `say "hi" \o/`, Comment: "a (b) c\\",
		Properties: []Property{{"smtp", "mailfrom", `"a b"@example.com`}, {"header", "from", "ünï@example.com"}, {"", "action", "none"}}}}}
	assert.Equal(t, `"auth serv"; x-foo=pass (a \(b\) c\\) reason="say \"hi\" \\o/" smtp.mailfrom="\"a b\"@example.com" header.from="ünï@example.com" action=none`, r.String())
	again, err = Parse(r.String())
	require.NoError(t, err)
	assert.Equal(t, r, again)
}

func TestFormatRejectsInjection(t *testing.T) {
	base := func() *Results {
		return &Results{AuthServID: "example.com", Results: []Result{{Method: "spf", Value: "pass",
			Properties: []Property{{"smtp", "mailfrom", "example.net"}}}}}
	}
	for name, edit := range map[string]func(r *Results){
		"authserv-id CRLF":  func(r *Results) { r.AuthServID = "example.com\r\nX-Evil: 1" },
		"empty authserv-id": func(r *Results) { r.AuthServID = "" },
		"method space":      func(r *Results) { r.Results[0].Method = "spf x" },
		"empty method":      func(r *Results) { r.Results[0].Method = "" },
		"result LF":         func(r *Results) { r.Results[0].Value = "pass\n" },
		"reason CR":         func(r *Results) { r.Results[0].Reason = "a\rb" },
		"comment LF":        func(r *Results) { r.Results[0].Comment = "a\nX-Evil: 1" },
		"value NUL":         func(r *Results) { r.Results[0].Properties[0].Value = "a\x00" },
		"value CRLF":        func(r *Results) { r.Results[0].Properties[0].Value = "a\r\nX-Evil: 1" },
		"value bad UTF-8":   func(r *Results) { r.Results[0].Properties[0].Value = "a\xff" },
		"ptype dot":         func(r *Results) { r.Results[0].Properties[0].Type = "smtp.x" },
		"property =":        func(r *Results) { r.Results[0].Properties[0].Name = "a=b" },
		"bare reason":       func(r *Results) { r.Results[0].Properties[0] = Property{Name: "reason", Value: "x"} },
		"negative version":  func(r *Results) { r.Version = -1 },
	} {
		r := base()
		edit(r)
		_, err := r.Format()
		var fe *FormatError
		require.ErrorAs(t, err, &fe, name)
		require.ErrorAs(t, r.Validate(), &fe, name)
		s := r.String()
		assert.NotContains(t, s, "\r", name)
		assert.NotContains(t, s, "\n", name)
		assert.NotContains(t, s, "\x00", name)
	}
}

func TestResultGet(t *testing.T) {
	r, err := Parse("example.com; dkim=pass header.d=example.com header.S=sel")
	require.NoError(t, err)
	v, ok := r.Results[0].Get("HEADER", "s")
	assert.True(t, ok)
	assert.Equal(t, "sel", v)
	_, ok = r.Results[0].Get("header", "i")
	assert.False(t, ok)
}

func TestErrorsAs(t *testing.T) {
	_, err := Parse("example.com")
	var se *SyntaxError
	require.True(t, errors.As(err, &se))
	assert.Contains(t, err.Error(), "offset 11")
	_, err = (&Results{}).Format()
	var fe *FormatError
	require.True(t, errors.As(err, &fe))
	assert.Contains(t, err.Error(), "authserv-id")
}

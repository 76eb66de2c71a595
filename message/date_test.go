package message

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDate(t *testing.T) {
	z := func(h, m int) *time.Location { return time.FixedZone("", (h*60+m)*60) }
	tests := []struct {
		in   string
		want time.Time
	}{
		{"Fri, 21 Nov 1997 09:55:06 -0600", time.Date(1997, 11, 21, 9, 55, 6, 0, z(-6, 0))},
		{"Tue, 1 Jul 2003 10:52:37 +0200", time.Date(2003, 7, 1, 10, 52, 37, 0, z(2, 0))},
		{"21 Nov 1997 09:55:06 -0600", time.Date(1997, 11, 21, 9, 55, 6, 0, z(-6, 0))},
		{"Fri, 21 Nov 1997 09:55 -0600", time.Date(1997, 11, 21, 9, 55, 0, 0, z(-6, 0))},
		{"Thu,\r\n      13\r\n        Feb\r\n          1969\r\n      23:32\r\n               -0330 (Newfoundland Time)",
			time.Date(1969, 2, 13, 23, 32, 0, 0, z(-3, -30))},
		{"21 Nov 97 09:55:06 GMT", time.Date(1997, 11, 21, 9, 55, 6, 0, time.UTC)},
		{"21 Nov 07 09:55:06 UT", time.Date(2007, 11, 21, 9, 55, 6, 0, time.UTC)},
		{"21 Nov 107 09:55:06 +0000", time.Date(2007, 11, 21, 9, 55, 6, 0, time.UTC)},
		{"26 Aug 76 14:29 EDT", time.Date(1976, 8, 26, 14, 29, 0, 0, time.FixedZone("EDT", -4*3600))},
		{"26 Aug 76 1429 EDT", time.Date(1976, 8, 26, 14, 29, 0, 0, time.FixedZone("EDT", -4*3600))},
		{"Thu, 26 Aug 76 1429 EDT", time.Date(1976, 8, 26, 14, 29, 0, 0, time.FixedZone("EDT", -4*3600))},
		{"1 Jan 2000 00:00:00 PST", time.Date(2000, 1, 1, 0, 0, 0, 0, time.FixedZone("PST", -8*3600))},
		{"1 Jan 2000 00:00:00 cdt", time.Date(2000, 1, 1, 0, 0, 0, 0, time.FixedZone("CDT", -5*3600))},
		{"1 Jan 2000 00:00:00 Z", time.Date(2000, 1, 1, 0, 0, 0, 0, unknownZone)}, // RFC 5322 §4.3
		{"1 Jan 2000 00:00:00 A", time.Date(2000, 1, 1, 0, 0, 0, 0, unknownZone)},
		{"1 Jan 2000 00:00:00 -0000", time.Date(2000, 1, 1, 0, 0, 0, 0, unknownZone)},
		{"1 Jan 2000 00:00:00", time.Date(2000, 1, 1, 0, 0, 0, 0, unknownZone)},
		{"1 Jan 2000 00:00:00 CEST", time.Date(2000, 1, 1, 0, 0, 0, 0, unknownZone)},
		{"Mon, 01 Jan 2001 00:00:00 +0000 (UTC)", time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"Wednesday, 3 March 2004 12:00:00 +0100", time.Date(2004, 3, 3, 12, 0, 0, 0, z(1, 0))},
		{"3-Mar-04 12:00:00 +0100", time.Date(2004, 3, 3, 12, 0, 0, 0, z(1, 0))},
		{"Fri Nov 21 09:55:06 1997", time.Date(1997, 11, 21, 9, 55, 6, 0, unknownZone)},
		{"Fri Nov 21 09:55:06 GMT 1997", time.Date(1997, 11, 21, 9, 55, 6, 0, time.UTC)},
		{"31 Dec 1998 23:59:60 +0000", time.Date(1998, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"29 Feb 2024 00:00:00 +0000", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"Tue, 1 Jul 2003 10:52:37 +02:00", time.Date(2003, 7, 1, 10, 52, 37, 0, z(2, 0))},
	}
	for _, tc := range tests {
		got, err := ParseDate(tc.in)
		require.NoError(t, err, tc.in)
		assert.True(t, tc.want.Equal(got), "%q: got %v want %v", tc.in, got, tc.want)
		_, wantOff := tc.want.Zone()
		_, gotOff := got.Zone()
		assert.Equal(t, wantOff, gotOff, tc.in)
		// A zone without information reads as -0000, and only then.
		assert.Equal(t, tc.want.Location() == unknownZone, got.Location() == unknownZone, tc.in)
	}
}

func TestParseDateErrors(t *testing.T) {
	for _, in := range []string{
		"", "Fri,", "Blursday, 21 Nov 1997 09:55:06 -0600", "21 Foo 1997 09:55:06 -0600",
		"32 Jan 1997 09:55:06 -0600", "29 Feb 2023 00:00:00 +0000", "21 Nov 1997 25:00:00 +0000",
		"21 Nov 1997 09:61:00 +0000", "21 Nov 1997 09:55:06 +0099", "21 Nov 1997 09:55:06 +0000 junk",
		"21 Nov 1997", "21 Nov 1997 9", "123 Nov 1997 09:55 +0000",
	} {
		_, err := ParseDate(in)
		require.Error(t, err, in)
		var de *DateError
		assert.True(t, errors.As(err, &de))
	}
}

func TestFormatDate(t *testing.T) {
	d := time.Date(1997, 11, 21, 9, 55, 6, 0, time.FixedZone("", -6*3600))
	assert.Equal(t, "Fri, 21 Nov 1997 09:55:06 -0600", FormatDate(d))
	u := time.Date(2000, 1, 1, 0, 0, 0, 0, unknownZone)
	assert.Equal(t, "Sat, 1 Jan 2000 00:00:00 -0000", FormatDate(u))
	back, err := ParseDate(FormatDate(u))
	require.NoError(t, err)
	assert.Equal(t, "-0000", back.Location().String())
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{
		"Fri, 21 Nov 1997 09:55:06 -0600", "26 Aug 76 1429 EDT", "Fri Nov 21 09:55:06 1997",
		"Thu,\r\n 13\r\n Feb\r\n 1969\r\n 23:32\r\n -0330 (Newfoundland Time)", "1 Jan 2000 00:00:00 A",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			return
		}
		if d.Year() < 0 || d.Year() > 9999 {
			return
		}
		again, err := ParseDate(FormatDate(d))
		if err != nil || !again.Equal(d) {
			t.Fatalf("%q -> %v -> %q -> %v, %v", s, d, FormatDate(d), again, err)
		}
	})
}

package message

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkZone parses date-times ending in zone, in the RFC 5322 layout and in
// the asctime one (zone before the year), and checks the offset and whether
// the zone carries information (-0000 means none, RFC 5322 §3.3).
func checkZone(t *testing.T, zone string, offset int, unknown bool) {
	t.Helper()
	for _, in := range []string{
		"Sat, 1 Jan 2000 12:34:56 " + zone,
		"1 Jan 2000 12:34 " + zone,
		"Sat, 1 Jan 2000 12:34:56 (before) " + zone + " (after)",
		"Sat Jan 1 12:34:56 " + zone + " 2000",
	} {
		got, err := ParseDate(in)
		require.NoError(t, err, in)
		_, off := got.Zone()
		assert.Equal(t, offset, off, in)
		assert.Equal(t, unknown, got.Location() == unknownZone, "%q: location %v", in, got.Location())
		sec := 56
		if strings.HasPrefix(in, "1 Jan") {
			sec = 0
		}
		want := time.Date(2000, 1, 1, 12, 34, sec, 0, time.FixedZone("", offset))
		assert.True(t, want.Equal(got), "%q: got %v want %v", in, got, want)

		// FormatDate writes the numeric zone, -0000 when unknown.
		var wantZone string
		switch {
		case unknown:
			wantZone = "-0000"
		case offset == 0:
			wantZone = "+0000"
		default:
			wantZone = want.Format("-0700")
		}
		out := FormatDate(got)
		assert.True(t, strings.HasSuffix(out, " "+wantZone), "%q formats as %q", in, out)
		back, err := ParseDate(out)
		require.NoError(t, err, out)
		assert.True(t, back.Equal(got), out)
		assert.Equal(t, unknown, back.Location() == unknownZone, out)
	}
}

// TestObsoleteZones covers the alphabetic zones of RFC 5322 §4.3 (obs-zone):
// UT and GMT are +0000 and the North American zones have the offsets the
// section lists, in upper, lower and mixed case.
func TestObsoleteZones(t *testing.T) {
	tests := []struct {
		zone  string
		hours int
	}{
		{"UT", 0}, {"GMT", 0},
		{"EDT", -4}, {"EST", -5},
		{"CDT", -5}, {"CST", -6},
		{"MDT", -6}, {"MST", -7},
		{"PDT", -7}, {"PST", -8},
	}
	for _, tc := range tests {
		for _, z := range []string{tc.zone, strings.ToLower(tc.zone), tc.zone[:1] + strings.ToLower(tc.zone[1:])} {
			t.Run(z, func(t *testing.T) { checkZone(t, z, tc.hours*3600, false) })
		}
	}
}

// TestMilitaryZones covers the single-letter zones of obs-zone: %d65-73,
// %d75-90, %d97-105 and %d107-122, A to I and K to Z in either case. RFC
// 822 defined them with the wrong sign, so RFC 5322 §4.3 says they "SHOULD
// all be considered equivalent to -0000": none of them, Z included, gives
// its RFC 822 offset, and each reads as a time without zone information.
func TestMilitaryZones(t *testing.T) {
	n := 0
	for c := byte('A'); c <= 'Z'; c++ {
		if c == 'J' {
			continue
		}
		for _, z := range []string{string(c), string(c | 0x20)} {
			n++
			t.Run(z, func(t *testing.T) { checkZone(t, z, 0, true) })
		}
	}
	assert.Equal(t, 50, n, "obs-zone has 25 letters in two cases")
}

// TestZoneJ covers the letter obs-zone leaves out (%d74 and %d106): J, which
// the military system uses for the observer's local time, with no offset.
// ParseDate reads it as -0000 rather than rejecting the date, being liberal
// in what it accepts: RFC 5322 §4.3 asks that any other alphabetic zone
// whose meaning is not known be taken as -0000, and "local time, zone not
// stated" is exactly what -0000 means (§3.3).
func TestZoneJ(t *testing.T) {
	for _, z := range []string{"J", "j"} {
		t.Run(z, func(t *testing.T) { checkZone(t, z, 0, true) })
	}
}

// TestUnknownZoneNames covers alphabetic zones obs-zone does not list:
// RFC 5322 §4.3 says to take them as -0000. UTC is read as +0000, as a
// name that cannot mean anything else.
func TestUnknownZoneNames(t *testing.T) {
	for _, z := range []string{"CEST", "cet", "BST", "JST", "IST", "NZDT", "AB", "XX", "MET DST"} {
		t.Run(z, func(t *testing.T) { checkZone(t, z, 0, true) })
	}
	for _, z := range []string{"UTC", "utc"} {
		t.Run(z, func(t *testing.T) { checkZone(t, z, 0, false) })
	}
}

package spf

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/internal/peer"
)

// TestPySPFAgrees evaluates every case of the RFC 7208 suite with pyspf
// (Debian's python3-spf, fed the suite's zone through a replaced
// spf.DNSLookup, no DNS traffic) and with this package over the same
// zone, and requires the same result.
func TestPySPFAgrees(t *testing.T) {
	py := peer.Python(t, "spf")
	type pyCase struct {
		I string `json:"i"`
		S string `json:"s"`
		H string `json:"h"`
	}
	agreed, compared := 0, 0
	for _, sc := range loadSuite(t) {
		z := zoneFrom(t, sc.ZoneData)
		zone := map[string]map[string]any{}
		for n := range z.exists {
			rrs := map[string]any{}
			if len(z.txt[n]) > 0 {
				rrs["TXT"] = z.txt[n]
			}
			var a4, a6 []string
			for _, a := range z.a[n] {
				if a.Is4() {
					a4 = append(a4, a.String())
				} else {
					a6 = append(a6, a.String())
				}
			}
			if a4 != nil {
				rrs["A"] = a4
			}
			if a6 != nil {
				rrs["AAAA"] = a6
			}
			var mxs [][]any
			for _, mx := range z.mx[n] {
				mxs = append(mxs, []any{mx.Pref, mx.Host})
			}
			if mxs != nil {
				rrs["MX"] = mxs
			}
			if len(z.ptr[n]) > 0 {
				rrs["PTR"] = z.ptr[n]
			}
			if c, ok := z.cname[n]; ok {
				rrs["CNAME"] = c
			}
			if z.timeout[n] {
				var types []string
				for _, typ := range []string{"TXT", "A", "AAAA", "MX", "PTR"} {
					if rrs[typ] == nil {
						types = append(types, typ)
					}
				}
				rrs["TIMEOUT"] = types
			}
			zone[n] = rrs
		}
		var names []string
		for name := range sc.Tests {
			names = append(names, name)
		}
		sort.Strings(names)
		var cases []pyCase
		for _, name := range names {
			tc := sc.Tests[name]
			cases = append(cases, pyCase{I: tc.Host, S: tc.MailFrom, H: tc.Helo})
		}
		in, err := json.Marshal(map[string]any{"zone": zone, "cases": cases})
		require.NoError(t, err)
		cmd := exec.Command(py, "testdata/pyspf_check.py")
		cmd.Stdin = bytes.NewReader(in)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		require.NoError(t, err, "pyspf: %s", stderr.String())
		var results [][2]string
		require.NoError(t, json.Unmarshal(out, &results))
		require.Len(t, results, len(names))

		c := &Checker{Resolver: fakeResolver{z}, Hostname: "receiver.example.net", Timeout: suiteTimeout}
		for i, name := range names {
			tc := sc.Tests[name]
			o, _ := c.CheckMailFrom(context.Background(), netip.MustParseAddr(tc.Host), tc.MailFrom, tc.Helo)
			compared++
			got := Result(results[i][0])
			if assert.Equal(t, got, o.Result, "%s/%s: pyspf says %s (%s), auth/spf %s (%v)", sc.Description, name, got, results[i][1], o.Result, o.Err) {
				agreed++
				if got == Fail && tc.Explanation != "" && tc.Explanation != "DEFAULT" {
					assert.Equal(t, strings.ToLower(results[i][1]), strings.ToLower(o.Explanation), name)
				}
			}
		}
	}
	t.Logf("pyspf agrees with auth/spf on %d of %d suite cases", agreed, compared)
	assert.Equal(t, compared, agreed)
}

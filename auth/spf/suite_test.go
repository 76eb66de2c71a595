package spf

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	"golang.org/x/net/dns/dnsmessage"

	"github.com/mailwire/mailwire/dnsmx"
	"github.com/mailwire/mailwire/dnsmx/dnsmxtest"
)

// The OpenSPF RFC 7208 test suite (testdata/rfc7208-tests.yml, with its
// licence in testdata/rfc7208-tests.LICENSE): YAML documents, each a
// scenario with tests and the zone they run against.

type suiteScenario struct {
	Description string                   `yaml:"description"`
	Tests       map[string]suiteCase     `yaml:"tests"`
	ZoneData    map[string][]interface{} `yaml:"zonedata"`
}

type suiteCase struct {
	Description string      `yaml:"description"`
	Spec        interface{} `yaml:"spec"`
	Helo        string      `yaml:"helo"`
	Host        string      `yaml:"host"`
	MailFrom    string      `yaml:"mailfrom"`
	Result      interface{} `yaml:"result"` // a string or a list of acceptable results
	Explanation string      `yaml:"explanation"`
}

func (c suiteCase) results() []Result {
	switch r := c.Result.(type) {
	case string:
		return []Result{Result(r)}
	case []interface{}:
		var rs []Result
		for _, x := range r {
			rs = append(rs, Result(fmt.Sprint(x)))
		}
		return rs
	}
	return nil
}

func loadSuite(t testing.TB) []suiteScenario {
	f, err := os.Open("testdata/rfc7208-tests.yml")
	require.NoError(t, err)
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var out []suiteScenario
	for {
		var s suiteScenario
		err := dec.Decode(&s)
		if err != nil {
			if err.Error() == "EOF" {
				break
			}
			require.NoError(t, err)
		}
		out = append(out, s)
	}
	return out
}

// fakeZone holds a scenario's records, as a fake dnsmx.Resolver serves
// them.
type fakeZone struct {
	txt     map[string][]string
	a       map[string][]netip.Addr
	mx      map[string][]*net.MX
	ptr     map[string][]string
	cname   map[string]string
	timeout map[string]bool
	exists  map[string]bool
}

// zoneFrom converts zonedata. An SPF (type 99) entry counts as TXT when
// the name has no TXT entry (the suite's rule; RFC 7208 dropped type SPF).
func zoneFrom(t testing.TB, data map[string][]interface{}) *fakeZone {
	z := &fakeZone{txt: map[string][]string{}, a: map[string][]netip.Addr{}, mx: map[string][]*net.MX{},
		ptr: map[string][]string{}, cname: map[string]string{}, timeout: map[string]bool{}, exists: map[string]bool{}}
	for name, entries := range data {
		n := canon(name)
		z.exists[n] = true
		var txt, spf []string
		hasTXT := false
		for _, e := range entries {
			if s, ok := e.(string); ok {
				require.Equal(t, "TIMEOUT", s, "zone entry for %s", name)
				z.timeout[n] = true
				continue
			}
			m, ok := e.(map[string]interface{})
			require.True(t, ok, "zone entry %v for %s", e, name)
			for typ, v := range m {
				switch typ {
				case "TXT", "SPF":
					var s string
					switch v := v.(type) {
					case string:
						s = v
					case []interface{}:
						var parts []string
						for _, p := range v {
							parts = append(parts, fmt.Sprint(p))
						}
						s = strings.Join(parts, "")
					case nil:
					default:
						s = fmt.Sprint(v)
					}
					if typ == "TXT" {
						hasTXT = true
						if s != "NONE" { // "NONE": no TXT records
							txt = append(txt, s)
						}
					} else {
						spf = append(spf, s)
					}
				case "A", "AAAA":
					a, err := netip.ParseAddr(fmt.Sprint(v))
					require.NoError(t, err)
					z.a[n] = append(z.a[n], a)
				case "MX":
					l := v.([]interface{})
					z.mx[n] = append(z.mx[n], &net.MX{Pref: uint16(l[0].(int)), Host: canon(fmt.Sprint(l[1]))})
				case "PTR":
					z.ptr[n] = append(z.ptr[n], canon(fmt.Sprint(v)))
				case "CNAME":
					z.cname[n] = canon(fmt.Sprint(v))
				default:
					t.Fatalf("unknown record type %s for %s", typ, name)
				}
			}
		}
		if hasTXT {
			z.txt[n] = txt
		} else if spf != nil {
			z.txt[n] = spf
		}
	}
	return z
}

func canon(name string) string {
	return strings.ToLower(strings.TrimSuffix(name, ".")) + "."
}

// fakeResolver serves a fakeZone. A query for a TIMEOUT name that has no
// records of the type asked blocks until the context ends, then fails as a
// timed-out query does (the suite's rule).
type fakeResolver struct{ z *fakeZone }

func (r fakeResolver) find(ctx context.Context, name string, has func(string) bool) (string, error) {
	n := canon(name)
	for range 10 {
		if r.z.timeout[n] && !has(n) {
			<-ctx.Done()
			return "", &net.DNSError{Err: "i/o timeout", Name: name, IsTimeout: true, IsTemporary: true}
		}
		c, ok := r.z.cname[n]
		if !ok {
			break
		}
		n = c
	}
	if !r.z.exists[n] {
		return "", &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
	return n, nil
}

func nodata(name string) error {
	return &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (r fakeResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	n, err := r.find(ctx, name, func(n string) bool { return len(r.z.txt[n]) > 0 })
	if err != nil {
		return nil, err
	}
	if len(r.z.txt[n]) == 0 {
		return nil, nodata(name)
	}
	return slices.Clone(r.z.txt[n]), nil
}

func (r fakeResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	var out []netip.Addr
	n, err := r.find(ctx, host, func(n string) bool {
		out = nil
		for _, a := range r.z.a[n] {
			if network == "ip" || network == "ip4" && a.Is4() || network == "ip6" && a.Is6() {
				out = append(out, a)
			}
		}
		return len(out) > 0
	})
	_ = n
	if err != nil {
		return nil, err
	}
	out = nil
	for _, a := range r.z.a[n] {
		if network == "ip" || network == "ip4" && a.Is4() || network == "ip6" && a.Is6() {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, nodata(host)
	}
	return out, nil
}

func (r fakeResolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	n, err := r.find(ctx, name, func(n string) bool { return len(r.z.mx[n]) > 0 })
	if err != nil {
		return nil, err
	}
	if len(r.z.mx[n]) == 0 {
		return nil, nodata(name)
	}
	mxs := slices.Clone(r.z.mx[n])
	sort.SliceStable(mxs, func(i, j int) bool { return mxs[i].Pref < mxs[j].Pref })
	return mxs, nil
}

func (r fakeResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return nil, &net.DNSError{Err: "unrecognized address", Name: addr}
	}
	n, err := r.find(ctx, dnsmxtest.ReverseName(a.String()), func(n string) bool { return len(r.z.ptr[n]) > 0 })
	if err != nil {
		return nil, err
	}
	if len(r.z.ptr[n]) == 0 {
		return nil, nodata(addr)
	}
	return slices.Clone(r.z.ptr[n]), nil
}

// dnsZone converts a fakeZone for dnsmxtest.
func dnsZone(z *fakeZone) dnsmxtest.Zone {
	zone := dnsmxtest.Zone{}
	for n := range z.exists {
		var rrs []dnsmxtest.Record
		if z.timeout[n] {
			// Queries time out for the types without records.
			var types []dnsmessage.Type
			for typ, count := range map[dnsmessage.Type]int{
				dnsmessage.TypeTXT: len(z.txt[n]), dnsmessage.TypeMX: len(z.mx[n]), dnsmessage.TypePTR: len(z.ptr[n]),
				dnsmessage.TypeA: countFamily(z.a[n], true), dnsmessage.TypeAAAA: countFamily(z.a[n], false),
			} {
				if count == 0 {
					types = append(types, typ)
				}
			}
			rrs = append(rrs, dnsmxtest.Drop(types...))
		}
		for _, s := range z.txt[n] {
			rrs = append(rrs, dnsmxtest.TXT(s))
		}
		for _, a := range z.a[n] {
			if a.Is4() {
				rrs = append(rrs, dnsmxtest.A(a.String()))
			} else {
				rrs = append(rrs, dnsmxtest.AAAA(a.String()))
			}
		}
		for _, mx := range z.mx[n] {
			rrs = append(rrs, dnsmxtest.MX(mx.Pref, mx.Host))
		}
		for _, p := range z.ptr[n] {
			rrs = append(rrs, dnsmxtest.PTR(p))
		}
		if c, ok := z.cname[n]; ok {
			rrs = append(rrs, dnsmxtest.CNAME(c))
		}
		zone[n] = rrs
	}
	return zone
}

func countFamily(addrs []netip.Addr, v4 bool) int {
	n := 0
	for _, a := range addrs {
		if a.Is4() == v4 {
			n++
		}
	}
	return n
}

// suiteTimeout bounds each check against the fake resolver, which answers
// in microseconds, and queryTimeout each DNS query to dnsmxtest, so that
// TIMEOUT entries end soon.
const (
	suiteTimeout = 100 * time.Millisecond
	queryTimeout = 300 * time.Millisecond
)

func runSuite(t *testing.T, impl string) {
	passed, total := 0, 0
	var mu sync.Mutex
	for _, sc := range loadSuite(t) {
		z := zoneFrom(t, sc.ZoneData)
		var res dnsmx.Resolver = fakeResolver{z}
		if impl == "dnsmxtest" {
			srv := dnsmxtest.NewServer(t, dnsZone(z))
			// A dropped query times out in the client.
			res = &dnsmx.StubResolver{Servers: []string{srv.Addr()}, Timeout: queryTimeout, Attempts: 1}
		}
		timeout := suiteTimeout // the fake blocks until the check's deadline
		if impl == "dnsmxtest" {
			timeout = time.Minute
		}
		c := &Checker{Resolver: res, Hostname: "receiver.example.net", Timeout: timeout,
			DefaultExplanation: "DEFAULT"}
		names := make([]string, 0, len(sc.Tests))
		for name := range sc.Tests {
			names = append(names, name)
		}
		sort.Strings(names)
		t.Run(sc.Description, func(t *testing.T) {
			for _, name := range names {
				tc := sc.Tests[name]
				t.Run(name, func(t *testing.T) {
					mu.Lock()
					total++
					mu.Unlock()
					ip, err := netip.ParseAddr(tc.Host)
					require.NoError(t, err)
					o, _ := c.CheckMailFrom(context.Background(), ip, tc.MailFrom, tc.Helo)
					want := tc.results()
					ok := assert.Contains(t, want, o.Result, "%s (spec %v): %s\nerr: %v", name, tc.Spec, tc.Description, o.Err)
					if tc.Explanation != "" && o.Result == Fail {
						// Case-insensitively: the suite writes the
						// nibbles of an IPv6 %{i} in upper case, RFC
						// 7208 §7.4 in lower case.
						ok = assert.Equal(t, strings.ToLower(tc.Explanation), strings.ToLower(o.Explanation), "explanation") && ok
					}
					if ok {
						mu.Lock()
						passed++
						mu.Unlock()
					}
				})
			}
		})
	}
	t.Logf("RFC 7208 test suite, impl=%s: %d of %d cases passed", impl, passed, total)
	assert.Equal(t, total, passed)
	assert.Greater(t, total, 200)
}

func TestRFC7208Suite(t *testing.T) {
	for _, impl := range []string{"fake", "dnsmxtest"} {
		t.Run("impl="+impl, func(t *testing.T) { runSuite(t, impl) })
	}
}

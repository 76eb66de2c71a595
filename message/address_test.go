package message

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mb(name, addr string) *Address { return &Address{Name: name, Addr: addr} }

func grp(name string, members ...*Address) *Address {
	if members == nil {
		members = []*Address{}
	}
	return &Address{Name: name, IsGroup: true, Members: members}
}

func TestParseAddressList(t *testing.T) {
	tests := []struct {
		in   string
		want []*Address
	}{
		{"jdoe@example.com", []*Address{mb("", "jdoe@example.com")}},
		{"John Doe <jdoe@machine.example>", []*Address{mb("John Doe", "jdoe@machine.example")}},
		{`"Joe Q. Public" <john.q.public@example.com>`, []*Address{mb("Joe Q. Public", "john.q.public@example.com")}},
		{"Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>", []*Address{
			mb("Mary Smith", "mary@x.test"), mb("", "jdoe@example.org"), mb("Who?", "one@y.test")}},
		{`<boss@nil.test>, "Giant; \"Big\" Box" <sysservices@example.net>`, []*Address{
			mb("", "boss@nil.test"), mb(`Giant; "Big" Box`, "sysservices@example.net")}},
		{"A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;", []*Address{
			grp("A Group", mb("Ed Jones", "c@a.test"), mb("", "joe@where.test"), mb("John", "jdoe@one.test"))}},
		{"Undisclosed recipients:;", []*Address{grp("Undisclosed recipients")}},
		{"undisclosed-recipients: ;", []*Address{grp("undisclosed-recipients")}},
		// Comments and white space (RFC 5322 A.5).
		{"Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>", []*Address{mb("Pete", "pete@silly.test")}},
		{"A Group(Some people)\r\n     :Chris Jones <c@(Chris's host.)public.example>,\r\n         joe@example.org,\r\n  John <jdoe@one.test> (my dear friend); (the end of the group)",
			[]*Address{grp("A Group", mb("Chris Jones", "c@public.example"), mb("", "joe@example.org"), mb("John", "jdoe@one.test"))}},
		{"(Empty list)(start)Hidden recipients  :(nobody(that I know))  ;", []*Address{grp("Hidden recipients")}},
		// Obsolete forms (RFC 5322 A.6).
		{"Joe Q. Public <john.q.public@example.com>", []*Address{mb("Joe Q. Public", "john.q.public@example.com")}},
		{"Mary Smith <@node.test:mary@example.net>, , jdoe@test  . example", []*Address{
			mb("Mary Smith", "mary@example.net"), mb("", "jdoe@test.example")}},
		{"<@a.test,@b.test:joe@c.test>", []*Address{mb("", "joe@c.test")}},
		{"john . q . public@example.com", []*Address{mb("", "john.q.public@example.com")}},
		{`"john"."q"@example.com`, []*Address{mb("", "john.q@example.com")}},
		// Domain literals.
		{"joe@[192.168.1.3]", []*Address{mb("", "joe@[192.168.1.3]")}},
		{"Joe <joe@[IPv6:2001:db8::1]>", []*Address{mb("Joe", "joe@[IPv6:2001:db8::1]")}},
		// Quoted local parts.
		{`"john doe"@example.com`, []*Address{mb("", "john doe@example.com")}},
		{`"a\"b"@example.com`, []*Address{mb("", `a"b@example.com`)}},
		// Encoded display names (RFC 2047 §8).
		{"=?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>", []*Address{mb("Keith Moore", "moore@cs.utk.edu")}},
		{"=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk>", []*Address{mb("Keld Jørn Simonsen", "keld@dkuug.dk")}},
		{"=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>", []*Address{mb("André Pirard", "PIRARD@vm1.ulg.ac.be")}},
		{`"=?utf-8?q?Ren=C3=A9?=" <r@x.test>`, []*Address{mb("René", "r@x.test")}},
		{"Nathaniel Borenstein <nsb@thumper.bellcore.com>\r\n    (=?iso-8859-8?b?7eXs+SDv4SDp7Oj08A==?=)", []*Address{mb("Nathaniel Borenstein", "nsb@thumper.bellcore.com")}},
		{"=?ISO-8859-1?Q?Olle_J=E4rnefors?= <ojarnef@admin.kth.se>", []*Address{mb("Olle Järnefors", "ojarnef@admin.kth.se")}},
		// UTF-8 (RFC 6532).
		{"Jöran Øster <jöran@exämple.test>", []*Address{mb("Jöran Øster", "jöran@exämple.test")}},
		{"用户 <用户@例子.广告>", []*Address{mb("用户", "用户@例子.广告")}},
		// Old-style comment as name.
		{"joe@example.com (Joe Bloggs)", []*Address{mb("Joe Bloggs", "joe@example.com")}},
		// Common mistakes, read anyway.
		{"a@x.test; b@y.test;", []*Address{mb("", "a@x.test"), mb("", "b@y.test")}},
		{"joe@example.com <joe@example.com>", []*Address{mb("joe@example.com", "joe@example.com")}},
		{"Joe <joe@example.com", []*Address{mb("Joe", "joe@example.com")}},
		// Empty lists.
		{"", nil},
		{"  ,  ", nil},
		{"(comment only)", nil},
	}
	for _, tc := range tests {
		got, err := ParseAddressList(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

func TestParseAddressErrors(t *testing.T) {
	for _, in := range []string{
		"joe", "joe@", "@example.com", "\"unterminated <a@b.test>",
		"Joe <>", "a@b.test c@d.test", "G: x@y.test; extra", "joe@[1.2.3.4", "a b@c.test",
		"G: H: x@y.test;;", "<a@b.test> >", "Joe <joe@example.com x", "a@b <c@d> e",
	} {
		_, err := ParseAddressList(in)
		require.Error(t, err, in)
		var ae *AddressError
		require.True(t, errors.As(err, &ae), in)
	}
}

func TestParseAddress(t *testing.T) {
	a, err := ParseAddress("  Joe <joe@example.com>  ")
	require.NoError(t, err)
	assert.Equal(t, mb("Joe", "joe@example.com"), a)
	_, err = ParseAddress("a@b.test, c@d.test")
	require.Error(t, err)
	g, err := ParseAddress("Team: a@b.test;")
	require.NoError(t, err)
	assert.True(t, g.IsGroup)
}

func TestFormatAddress(t *testing.T) {
	tests := []struct {
		a    *Address
		want string
	}{
		{mb("", "joe@example.com"), "joe@example.com"},
		{mb("Joe Bloggs", "joe@example.com"), "Joe Bloggs <joe@example.com>"},
		{mb("Joe Q. Public", "joe@example.com"), `"Joe Q. Public" <joe@example.com>`},
		{mb(`Giant; "Big" Box`, "s@example.net"), `"Giant; \"Big\" Box" <s@example.net>`},
		{mb("", "john doe@example.com"), `"john doe"@example.com`},
		{mb("", "john..doe@example.com"), `"john..doe"@example.com`},
		{mb("André Pirard", "p@x.test"), "=?UTF-8?Q?Andr=C3=A9_Pirard?= <p@x.test>"},
		{mb("", "joe@[IPv6:2001:db8::1]"), "joe@[IPv6:2001:db8::1]"},
		{grp("Undisclosed recipients"), "Undisclosed recipients:;"},
		{grp("Team", mb("A", "a@x.test"), mb("", "b@x.test")), "Team: A <a@x.test>, b@x.test;"},
		{mb(" spaced  name ", "a@x.test"), `" spaced  name " <a@x.test>`},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, tc.a.String())
		back, err := ParseAddress(tc.want)
		require.NoError(t, err, tc.want)
		assert.Equal(t, tc.a, back, tc.want)
	}
	assert.Equal(t, "André Pirard <p@x.test>", mb("André Pirard", "p@x.test").FormatUTF8())
	assert.Equal(t, "a@x.test, B <b@x.test>", FormatAddressList([]*Address{mb("", "a@x.test"), mb("B", "b@x.test")}))
}

func TestAddressNoLineBreaks(t *testing.T) {
	// A quoted line break (RFC 5322 §4.4 obs-qp) is refused, not dropped.
	for _, in := range []string{"\"a\\\r\\\nBcc: x\"@y.test", "a@[1.2\\\r\\\n3]", "\"x\\\ny\" <a@b.test>"} {
		_, err := ParseAddressList(in)
		var ae *AddressError
		require.ErrorAs(t, err, &ae, in)
	}
	// Formatting an Address built by hand drops what no header may hold.
	assert.Equal(t, `"ab"@x.test`, mb("", "a\r\nb@x.test").String())
	assert.Equal(t, `a@x.testBcc: y`, mb("", "a@x.test\r\nBcc: y").String())
	assert.Equal(t, `"ab"@x.test`, mb("", "a\x00b@x.test").String())
	assert.Equal(t, `a@x.test`, mb("", "a@x.\x00test").String())
}

func TestAddressParts(t *testing.T) {
	tests := []struct{ addr, local, domain string }{
		{"joe@example.com", "joe", "example.com"},
		{"john doe@example.com", "john doe", "example.com"},
		{`a@b@example.com`, "a@b", "example.com"},
		{"joe@[IPv6:2001:db8::1]", "joe", "[IPv6:2001:db8::1]"},
		{"x@[a@b]", "x", "[a@b]"},
		{"nodomain", "nodomain", ""},
	}
	for _, tc := range tests {
		a := mb("", tc.addr)
		assert.Equal(t, tc.local, a.LocalPart(), tc.addr)
		assert.Equal(t, tc.domain, a.Domain(), tc.addr)
	}
}

func TestMailboxes(t *testing.T) {
	list, err := ParseAddressList("a@x.test, G: b@x.test, c@x.test;, Empty:;, d@x.test")
	require.NoError(t, err)
	var addrs []string
	for _, m := range Mailboxes(list) {
		addrs = append(addrs, m.Addr)
	}
	assert.Equal(t, []string{"a@x.test", "b@x.test", "c@x.test", "d@x.test"}, addrs)
}

func FuzzParseAddressList(f *testing.F) {
	for _, s := range []string{
		"John Doe <jdoe@machine.example>", `"Joe Q. Public" <john.q.public@example.com>`,
		"A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
		"Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
		"Mary Smith <@node.test:mary@example.net>, , jdoe@test  . example",
		"joe@[IPv6:2001:db8::1]", "=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>",
		"用户 <用户@例子.广告>", "(((", `"\`,
		"a@b.example, undisclosed", "\"\rtest\"@example.org", "\"a\x00\"@x.test", "a..b@x..test",
		"G: a@x.test, bad stuff, <b>;, (open", "\"a\r\n b\"@x.test,\r\n\tc@x.test",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// The lenient reader never yields text a header cannot hold, and
		// its defects point into the input.
		lenient, defects := ParseAddressListLenient(s)
		if out := FormatAddressList(lenient); strings.ContainsAny(out, "\r\n\x00") {
			t.Fatalf("%q: lenient result formats as %q", s, out)
		}
		for _, a := range Mailboxes(lenient) {
			if strings.ContainsAny(a.Addr, "\r\n\x00") {
				t.Fatalf("%q: lenient Addr %q", s, a.Addr)
			}
		}
		for _, d := range defects {
			if d.Offset < 0 || d.Offset > len(s) {
				t.Fatalf("%q: defect at %d", s, d.Offset)
			}
		}
		list, err := ParseAddressList(s)
		if err != nil {
			var ae *AddressError
			if !errors.As(err, &ae) || ae.Offset < 0 || ae.Offset > len(s) {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		// What validates reads the same leniently, without defects.
		if len(defects) > 0 || !assert.ObjectsAreEqual(list, lenient) {
			t.Fatalf("%q: strict %v, lenient %v with %v", s, list, lenient, defects)
		}
		if out := FormatAddressList(list); strings.ContainsAny(out, "\r\n\x00") {
			t.Fatalf("%q formats as %q", s, out)
		}
		for _, a := range Mailboxes(list) {
			if strings.ContainsAny(a.Addr, "\r\n\x00") {
				t.Fatalf("%q: Addr %q", s, a.Addr)
			}
		}
		// Formatting what was parsed and parsing it again gives the same
		// addresses.
		out := FormatAddressList(list)
		again, err := ParseAddressList(out)
		if err != nil {
			t.Fatalf("%q -> %q: %v", s, out, err)
		}
		if len(again) != len(list) {
			t.Fatalf("%q -> %q: %d != %d addresses", s, out, len(again), len(list))
		}
		// A display name that is not UTF-8 (raw 8-bit text) is written
		// as UTF-8 encoded words, with U+FFFD for the bad bytes.
		for _, a := range append(list, Mailboxes(list)...) {
			if (a.Name != "" || a.IsGroup) && !utf8.ValidString(a.Name) {
				a.Name = strings.ToValidUTF8(a.Name, "\uFFFD")
			}
		}
		for i := range list {
			if !assert.ObjectsAreEqual(list[i], again[i]) {
				t.Fatalf("%q -> %q: %#v != %#v", s, out, list[i], again[i])
			}
		}
	})
}

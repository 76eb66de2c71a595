package maildir

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// uidListSeeds are UID list files: what writeUIDList produces, forms the
// parser also accepts (other white space in the header, CRLF line ends,
// lines in any UID order, NEXT 0 once the UID space is used up), and
// near misses it must reject, among them Dovecot's dovecot-uidlist header
// ("3 V<validity> N<next> G<guid>"), which is not this package's format.
var uidListSeeds = []string{
	"mailwire-uidlist 1 1700000000 1\n",
	"mailwire-uidlist 1 1700000000 3\n1 1700000000.M1P2Q1R00.host,S=10,W=11\n2 1700000001.M5P2Q2R01.host,S=3,W=3\n",
	"mailwire-uidlist\t1   1700000000\t3 \n2 b\n1 a\n",
	"mailwire-uidlist 1 1700000000 3\r\n1 a\r\n2 b\r\n",
	"mailwire-uidlist 1 42 0\n4294967295 last\n1 first\n",
	"mailwire-uidlist 1 1 4294967295\n4294967294 k\n",
	"mailwire-uidlist 1 7 10\n3 key with spaces\n5  leading space\n",
	"mailwire-uidlist 1 7 10\n3 1700000000.M1P2.host\\057x\\072y\n",
	// Rejected:
	"",
	"\n",
	"mailwire-uidlist 1 0 1\n",
	"mailwire-uidlist 2 7 1\n",
	"mailwire-uidlist 1 7\n",
	"mailwire-uidlist 1 7 3\n3 a\n",
	"mailwire-uidlist 1 7 3\n0 a\n",
	"mailwire-uidlist 1 7 3\n1 a\n1 b\n",
	"mailwire-uidlist 1 7 3\n1 a\n2 a\n",
	"mailwire-uidlist 1 7 3\n1 .hidden\n",
	"mailwire-uidlist 1 7 3\n1 a/b\n",
	"mailwire-uidlist 1 7 3\n1 a:2,S\n",
	"mailwire-uidlist 1 7 3\n1 a\x00b\n",
	"mailwire-uidlist 1 7 3\n\n1 a\n",
	"mailwire-uidlist 1 7 3\n+1 a\n",
	"mailwire-uidlist 1 7 3\n1\n",
	"mailwire-uidlist 1 4294967296 3\n",
	"3 V1700000000 N3 G6f2e1c0b5a4e3f2d1c0b\n1 :1700000000.M1P2.host\n2 :1700000001.M5P2.host\n",
	"1 1700000000 3\n1 a\n",
}

// FuzzUIDList feeds arbitrary files to the UID list parser. It must not
// panic; what it accepts must satisfy the invariants UIDs rely on (RFC 3501
// §2.3.1.1: non-zero UIDVALIDITY, unique non-zero UIDs below the next UID,
// keys that are file names and lines of the file) and must survive
// formatting and parsing again unchanged.
func FuzzUIDList(f *testing.F) {
	for _, s := range uidListSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		head := headValidity(b)
		ul, err := parseUIDList(b)
		if err != nil {
			if !errors.Is(err, errCorrupt) {
				t.Fatalf("error %v does not wrap errCorrupt", err)
			}
			return
		}
		checkUIDList(t, ul)
		if head != ul.validity {
			t.Fatalf("%q: header UIDVALIDITY %d, list %d", b, head, ul.validity)
		}
		for _, line := range bytes.Split(b, []byte("\n")) {
			if len(line) >= maxUIDLine {
				t.Fatalf("accepted a line of %d bytes", len(line))
			}
		}
		out := ul.marshal()
		again, err := parseUIDList(out)
		if err != nil {
			t.Fatalf("%q formats as %q, which does not parse: %v", b, out, err)
		}
		if again.validity != ul.validity || again.next != ul.next || len(again.uids) != len(ul.uids) {
			t.Fatalf("%q: round trip changed the list: %+v -> %+v", b, ul, again)
		}
		for k, u := range ul.uids {
			if again.uids[k] != u {
				t.Fatalf("%q: key %q has UID %d, %d after a round trip", b, k, u, again.uids[k])
			}
		}
		if !bytes.Equal(again.marshal(), out) {
			t.Fatalf("formatting is not stable: %q then %q", out, again.marshal())
		}
	})
}

func checkUIDList(t *testing.T, ul *uidList) {
	t.Helper()
	if ul.validity == 0 {
		t.Fatal("UIDVALIDITY 0")
	}
	seen := map[uint32]string{}
	for k, u := range ul.uids {
		if !validKey(k) {
			t.Fatalf("invalid key %q", k)
		}
		if u == 0 || ul.next != 0 && u >= ul.next {
			t.Fatalf("key %q has UID %d with next %d", k, u, ul.next)
		}
		if other, dup := seen[u]; dup {
			t.Fatalf("UID %d for both %q and %q", u, k, other)
		}
		seen[u] = k
	}
}

// TestUIDListSeeds pins what the parser makes of the seeds.
func TestUIDListSeeds(t *testing.T) {
	accepted := 8
	for i, s := range uidListSeeds {
		ul, err := parseUIDList([]byte(s))
		if i < accepted {
			require.NoError(t, err, "%q", s)
			checkUIDList(t, ul)
		} else {
			require.ErrorIs(t, err, errCorrupt, "%q", s)
		}
	}
	ul, err := parseUIDList([]byte(uidListSeeds[2]))
	require.NoError(t, err)
	assert.Equal(t, &uidList{validity: 1700000000, next: 3, uids: map[string]uint32{"a": 1, "b": 2}}, ul)
	assert.Equal(t, "mailwire-uidlist 1 1700000000 3\n1 a\n2 b\n", string(ul.marshal()))
	ul, err = parseUIDList([]byte(uidListSeeds[4]))
	require.NoError(t, err)
	assert.Equal(t, &uidList{validity: 42, next: 0, uids: map[string]uint32{"first": 1, "last": 4294967295}}, ul)
}

// TestUIDListLineLimit checks the bound on a line: with its line feed it
// fits in maxUIDLine bytes, and one byte more makes the list corrupt.
func TestUIDListLineLimit(t *testing.T) {
	head := "mailwire-uidlist 1 7 3\n"
	fits := strings.Repeat("k", maxUIDLine-len("1 \n"))
	ul, err := parseUIDList([]byte(head + "1 " + fits + "\n"))
	require.NoError(t, err)
	assert.Len(t, ul.uids, 1)
	_, err = parseUIDList([]byte(head + "1 " + fits + "k\n"))
	assert.ErrorIs(t, err, errCorrupt)
	_, err = parseUIDList([]byte(head + "1 " + strings.Repeat("k", maxUIDLine) + "\n"))
	assert.ErrorIs(t, err, errCorrupt)
}

// A UID list with a UID twice would give two messages one UID; the folder
// starts over with a new UIDVALIDITY instead, so clients drop their caches.
func TestUIDListDuplicateUIDStartsOver(t *testing.T) {
	d := newDir(t)
	k1, err := d.Deliver(strings.NewReader("Subject: 1\n\none\n"))
	require.NoError(t, err)
	k2, err := d.Deliver(strings.NewReader("Subject: 2\n\ntwo\n"))
	require.NoError(t, err)
	bad := "mailwire-uidlist 1 1000 3\n1 " + k1 + "\n1 " + k2 + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(d.Path(), uidListFile), []byte(bad), 0o600))
	list, err := d.List()
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.NotEqual(t, list[0].UID, list[1].UID)
	v, _, err := d.UIDValidity()
	require.NoError(t, err)
	assert.NotEqual(t, uint32(1000), v)
}

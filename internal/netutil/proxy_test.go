package netutil

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func v2Header(cmd, fam byte, addrs []byte) []byte {
	h := append([]byte(nil), proxyV2Sig...)
	h = append(h, 0x20|cmd, fam)
	h = binary.BigEndian.AppendUint16(h, uint16(len(addrs)))
	return append(h, addrs...)
}

func TestReadProxyHeader(t *testing.T) {
	v4 := []byte{192, 0, 2, 1, 198, 51, 100, 2, 0x30, 0x39, 0, 25}
	v6 := append(append(netip.MustParseAddr("2001:db8::1").AsSlice(), netip.MustParseAddr("2001:db8::2").AsSlice()...), 0x30, 0x39, 0, 25)
	tests := []struct {
		name          string
		in            string
		remote, local string // "" for none
		err           bool
	}{
		{name: "v1 TCP4", in: "PROXY TCP4 192.0.2.1 198.51.100.2 12345 25\r\n", remote: "192.0.2.1:12345", local: "198.51.100.2:25"},
		{name: "v1 TCP6", in: "PROXY TCP6 2001:db8::1 2001:db8::2 12345 25\r\n", remote: "[2001:db8::1]:12345", local: "[2001:db8::2]:25"},
		{name: "v1 UNKNOWN", in: "PROXY UNKNOWN\r\n"},
		{name: "v1 UNKNOWN with addresses", in: "PROXY UNKNOWN ffff:f...f ffff:f...f 65535 65535\r\n"},
		{name: "v2 TCP4", in: string(v2Header(1, 0x11, v4)), remote: "192.0.2.1:12345", local: "198.51.100.2:25"},
		{name: "v2 TCP6", in: string(v2Header(1, 0x21, v6)), remote: "[2001:db8::1]:12345", local: "[2001:db8::2]:25"},
		{name: "v2 TCP4 with TLVs", in: string(v2Header(1, 0x11, append(append([]byte(nil), v4...), 0x04, 0, 1, 'x'))), remote: "192.0.2.1:12345", local: "198.51.100.2:25"},
		{name: "v2 LOCAL", in: string(v2Header(0, 0x00, nil))},
		{name: "v2 UNSPEC", in: string(v2Header(1, 0x00, nil))},
		{name: "no header", in: "EHLO client.test\r\n", err: true},
		{name: "v1 without CRLF", in: "PROXY TCP4 192.0.2.1 198.51.100.2 12345 25\n", err: true},
		{name: "v1 too long", in: "PROXY TCP4 " + string(bytes.Repeat([]byte("1"), 120)) + "\r\n", err: true},
		{name: "v1 family mismatch", in: "PROXY TCP4 2001:db8::1 2001:db8::2 12345 25\r\n", err: true},
		{name: "v1 bad port", in: "PROXY TCP4 192.0.2.1 198.51.100.2 012345 25\r\n", err: true},
		{name: "v1 port out of range", in: "PROXY TCP4 192.0.2.1 198.51.100.2 65536 25\r\n", err: true},
		{name: "v1 missing field", in: "PROXY TCP4 192.0.2.1 198.51.100.2 12345\r\n", err: true},
		{name: "v2 bad signature", in: "\r\n\r\n\x00\r\nQUIX\n\x21\x11\x00\x0c" + string(v4), err: true},
		{name: "v2 bad version", in: string(append(append(append([]byte(nil), proxyV2Sig...), 0x11, 0x11, 0, 12), v4...)), err: true},
		{name: "v2 short addresses", in: string(v2Header(1, 0x11, v4[:8])), err: true},
		{name: "v2 UDP", in: string(v2Header(1, 0x12, v4)), err: true},
		{name: "v2 truncated", in: string(v2Header(1, 0x11, v4))[:20], err: true},
		{name: "empty", in: "", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bytes.NewReader([]byte(tt.in + "rest"))
			remote, local, err := readProxyHeader(r)
			if tt.err {
				assert.ErrorIs(t, err, ErrProxyHeader)
				return
			}
			require.NoError(t, err)
			if tt.remote == "" {
				assert.Nil(t, remote)
				assert.Nil(t, local)
			} else {
				assert.Equal(t, tt.remote, remote.String())
				assert.Equal(t, tt.local, local.String())
			}
			rest, _ := io.ReadAll(r)
			assert.Equal(t, "rest", string(rest), "nothing past the header is consumed")
		})
	}
}

// TestProxyListener: a trusted proxy's connection gets the client's
// address; any other connection is passed on untouched, a header included.
func TestProxyListener(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	dial := func(data string) {
		c, err := net.Dial("tcp", l.Addr().String())
		require.NoError(t, err)
		c.Write([]byte(data))
		t.Cleanup(func() { c.Close() })
	}
	accept := func(pl net.Listener) (net.Conn, string) {
		nc, err := pl.Accept()
		require.NoError(t, err)
		require.NoError(t, ProxyHandshake(nc))
		buf := make([]byte, 5)
		_, err = io.ReadFull(nc, buf)
		require.NoError(t, err)
		return nc, string(buf)
	}

	trusted := ProxyListener(l, []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, time.Second)
	dial("PROXY TCP4 192.0.2.1 198.51.100.2 12345 25\r\nhello")
	nc, data := accept(trusted)
	assert.Equal(t, "192.0.2.1:12345", nc.RemoteAddr().String())
	assert.Equal(t, "198.51.100.2:25", nc.LocalAddr().String())
	assert.Equal(t, "hello", data)

	untrusted := ProxyListener(l, []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, time.Second)
	dial("PROXY")
	nc, data = accept(untrusted)
	assert.Contains(t, nc.RemoteAddr().String(), "127.0.0.1:")
	assert.Equal(t, "PROXY", data, "an untrusted client's header is data")

	assert.Same(t, l, ProxyListener(l, nil, 0), "no trusted proxies: no wrapping")

	// A trusted proxy that sends nothing is cut off after the timeout.
	slow := ProxyListener(l, []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, 50*time.Millisecond)
	dial("")
	nc, err = slow.Accept()
	require.NoError(t, err)
	assert.ErrorIs(t, ProxyHandshake(nc), ErrProxyHeader)
	_, err = nc.Read(make([]byte, 1))
	assert.ErrorIs(t, err, ErrProxyHeader, "the failure sticks")
}

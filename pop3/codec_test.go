package pop3

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/mailwire/mailwire/internal/textline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		in     string
		name   string
		args   []string
		params string
		err    bool
	}{
		{in: "STAT", name: "STAT"},
		{in: "stat", name: "STAT"},
		{in: "RETR 1", name: "RETR", args: []string{"1"}, params: "1"},
		{in: "TOP 10 0", name: "TOP", args: []string{"10", "0"}, params: "10 0"},
		{in: "APOP mrose c4c9334bac560ecc979e58001b3e22fb", name: "APOP", args: []string{"mrose", "c4c9334bac560ecc979e58001b3e22fb"}, params: "mrose c4c9334bac560ecc979e58001b3e22fb"},
		{in: "PASS my secret  pass", name: "PASS", args: []string{"my", "secret", "pass"}, params: "my secret  pass"},
		{in: "PASS pässwört", name: "PASS", args: []string{"pässwört"}, params: "pässwört"},
		{in: "LIST ", name: "LIST", params: ""},
		{in: "", err: true},
		{in: "AB", err: true},
		{in: "ABCDE", err: true},
		{in: " STAT", err: true},
		{in: "ST\x00T", err: true},
		{in: "RETR 1\r", err: true},
		{in: "RETR\x00 1", err: true},
		{in: "\xff\xfe\xfd", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, err := ParseCommand([]byte(tt.in))
			if tt.err {
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrSyntax)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.name, c.Name)
			assert.Equal(t, tt.args, c.Args)
			assert.Equal(t, tt.params, c.Params)
		})
	}
}

func TestParseResponse(t *testing.T) {
	tests := []struct {
		in   string
		want Response
		err  bool
	}{
		// RFC 1939 and RFC 2449 examples.
		{in: "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>", want: Response{OK: true, Message: "POP3 server ready <1896.697170952@dbc.mtview.ca.us>"}},
		{in: "+OK 2 320", want: Response{OK: true, Message: "2 320"}},
		{in: "-ERR no such message, only 2 messages in maildrop", want: Response{Message: "no such message, only 2 messages in maildrop"}},
		{in: "-ERR [IN-USE] Do you have another POP session running?", want: Response{Code: "IN-USE", Message: "Do you have another POP session running?"}},
		{in: "-ERR [LOGIN-DELAY] wait", want: Response{Code: "LOGIN-DELAY", Message: "wait"}},
		{in: "-ERR [SYS/TEMP] try later", want: Response{Code: "SYS/TEMP", Message: "try later"}},
		{in: "-ERR [AUTH]", want: Response{Code: "AUTH"}},
		{in: "+OK", want: Response{OK: true}},
		{in: "-ERR", want: Response{}},
		{in: "+ok lower case", want: Response{OK: true, Message: "lower case"}},
		{in: "-ERR [not a code] text", want: Response{Message: "[not a code] text"}},
		{in: "-ERR [SYS//TEMP] x", want: Response{Message: "[SYS//TEMP] x"}},
		{in: "-ERR [] x", want: Response{Message: "[] x"}},
		{in: "-ERR [unterminated", want: Response{Message: "[unterminated"}},
		{in: "+OKAY", err: true},
		{in: "+ challenge", err: true},
		{in: "", err: true},
		{in: "OK", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := ParseResponse([]byte(tt.in))
			if tt.err {
				assert.ErrorIs(t, err, ErrSyntax)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, r)
			// Round trip.
			again, err := ParseResponse([]byte(r.String()))
			require.NoError(t, err)
			assert.Equal(t, r, again)
		})
	}
}

func TestErrorType(t *testing.T) {
	err := Response{Code: "IN-USE", Message: "locked"}.Err()
	var pe *Error
	require.True(t, errors.As(err, &pe))
	assert.Equal(t, CodeInUse, pe.Code)
	assert.True(t, pe.Temporary())
	assert.Equal(t, "pop3: [IN-USE] locked", err.Error())
	assert.True(t, (&Error{Code: "SYS/TEMP/DISK"}).Temporary())
	assert.True(t, (&Error{Code: "login-delay"}).Temporary())
	assert.False(t, (&Error{Code: "SYS/PERM"}).Temporary())
	assert.False(t, (&Error{Code: "AUTH"}).Temporary())
	assert.False(t, (&Error{}).Temporary())
	assert.NoError(t, Response{OK: true}.Err())
}

func TestAPOPDigest(t *testing.T) {
	// RFC 1939 §7 example.
	assert.Equal(t, "c4c9334bac560ecc979e58001b3e22fb", apopDigest("<1896.697170952@dbc.mtview.ca.us>", "tanstaaf"))
}

func TestParseNumber(t *testing.T) {
	for in, want := range map[string]int{"1": 1, "0": 0, "007": 7, "999999999": 999999999} {
		n, ok := parseNumber(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, n, in)
	}
	for _, in := range []string{"", "-1", "+1", "1a", "1000000000", "99999999999999999999", " 1", "0x10"} {
		_, ok := parseNumber(in)
		assert.False(t, ok, in)
	}
	n, ok := parseCount("99999999999999999999999")
	assert.True(t, ok)
	assert.Greater(t, n, 1<<29)
	_, ok = parseCount("-5")
	assert.False(t, ok)
}

// dotWrite runs in through a dotWriter, in pieces of the given size.
func dotWrite(t *testing.T, in string, piece int) string {
	t.Helper()
	var out bytes.Buffer
	bw := bufio.NewWriter(&out)
	dw := newDotWriter(bw)
	for len(in) > 0 {
		n := min(piece, len(in))
		w, err := dw.Write([]byte(in[:n]))
		require.NoError(t, err)
		require.Equal(t, n, w)
		in = in[n:]
	}
	require.NoError(t, dw.Close())
	require.NoError(t, bw.Flush())
	return out.String()
}

var dotVectors = []struct {
	name, in, out string
}{
	{"empty", "", ".\r\n"},
	{"crlf", "a\r\nb\r\n", "a\r\nb\r\n.\r\n"},
	{"no final eol", "a\r\nb", "a\r\nb\r\n.\r\n"},
	{"bare lf", "a\nb\n", "a\r\nb\r\n.\r\n"},
	{"bare cr", "a\rb\r\n", "a\rb\r\n.\r\n"},
	{"trailing cr", "a\r", "a\r\r\n.\r\n"},
	{"dot line", ".\r\n", "..\r\n.\r\n"},
	{"leading dots", "..x\n.y\r\n", "...x\r\n..y\r\n.\r\n"},
	{"dot first", ".", "..\r\n.\r\n"},
	{"dot after bare cr", "a\r.b", "a\r.b\r\n.\r\n"},
	{"inner dot", "a.b\r\n", "a.b\r\n.\r\n"},
	{"smuggle", "x\n.\n", "x\r\n..\r\n.\r\n"},
	{"blank lines", "\n\r\n\n", "\r\n\r\n\r\n.\r\n"},
	{"crcrlf", "a\r\r\n", "a\r\r\n.\r\n"},
}

func TestDotWriter(t *testing.T) {
	for _, tt := range dotVectors {
		t.Run(tt.name, func(t *testing.T) {
			for _, piece := range []int{1, 2, 3, 1 << 20} {
				assert.Equal(t, tt.out, dotWrite(t, tt.in, piece), "piece %d", piece)
			}
		})
	}
}

func dotRead(t *testing.T, wire string, max int, oneByte bool) (string, error) {
	t.Helper()
	var r io.Reader = strings.NewReader(wire)
	if oneByte {
		r = iotest.OneByteReader(r)
	}
	dr := newDotReader(textline.NewReader(r, max))
	b, err := io.ReadAll(dr)
	return string(b), err
}

func TestDotReader(t *testing.T) {
	tests := []struct {
		name, wire, out string
		err             error
	}{
		{"empty", ".\r\n", "", nil},
		{"lines", "a\r\nb\r\n.\r\n", "a\r\nb\r\n", nil},
		{"unstuff", "..\r\n...x\r\n.y\r\n.\r\n", ".\r\n..x\r\ny\r\n", nil},
		{"lf terminator", "a\n.\n", "a\n", nil},
		{"cr is not a line start", "a\r.\r\n.\r\n", "a\r.\r\n", nil},
		{"eof", "a\r\n", "a\r\n", io.ErrUnexpectedEOF},
		{"eof mid line", "a\r\nb", "a\r\n", io.ErrUnexpectedEOF},
		{"long line", strings.Repeat("x", 100) + "\r\n.\r\n", strings.Repeat("x", 100) + "\r\n", nil},
		{"long dot line", "." + strings.Repeat(".", 100) + "\r\n.\r\n", strings.Repeat(".", 100) + "\r\n", nil},
		{"long line ending in dot", strings.Repeat("x", 16) + ".\r\n.\r\n", strings.Repeat("x", 16) + ".\r\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, one := range []bool{false, true} {
				got, err := dotRead(t, tt.wire, 16, one)
				if tt.err != nil {
					assert.ErrorIs(t, err, tt.err)
				} else {
					assert.NoError(t, err)
				}
				assert.Equal(t, tt.out, got)
			}
		})
	}
}

func TestDotRoundTrip(t *testing.T) {
	for _, tt := range dotVectors {
		wire := dotWrite(t, tt.in, 7)
		got, err := dotRead(t, wire+"+OK next\r\n", 4, false)
		require.NoError(t, err, tt.name)
		// Reading gives back the CRLF-normalised content.
		want := strings.TrimSuffix(tt.out, ".\r\n")
		want = strings.ReplaceAll(want, "\r\n..", "\r\n.")
		if strings.HasPrefix(want, "..") {
			want = want[1:]
		}
		assert.Equal(t, want, got, tt.name)
	}
}

func TestTopWriter(t *testing.T) {
	msg := "Subject: x\r\nFrom: a\r\n\r\nl1\r\nl2\r\nl3\r\n"
	tests := []struct {
		msg   string
		lines int
		want  string
	}{
		{msg, 0, "Subject: x\r\nFrom: a\r\n\r\n"},
		{msg, 1, "Subject: x\r\nFrom: a\r\n\r\nl1\r\n"},
		{msg, 2, "Subject: x\r\nFrom: a\r\n\r\nl1\r\nl2\r\n"},
		{msg, 99, msg},
		{"A: b\n\nbody\nmore\n", 1, "A: b\n\nbody\n"},
		{"A: b\r\n", 5, "A: b\r\n"},
		{"A: b\r\n\r\nno eol", 3, "A: b\r\n\r\nno eol"},
		{"\r\nbody\r\n", 0, "\r\n"},
	}
	for _, tt := range tests {
		for _, piece := range []int{1, 3, 1000} {
			var out bytes.Buffer
			tw := newTopWriter(&out, tt.lines)
			in := tt.msg
			for len(in) > 0 {
				n := min(piece, len(in))
				_, err := tw.Write([]byte(in[:n]))
				if err == errTopDone {
					break
				}
				require.NoError(t, err)
				in = in[n:]
			}
			assert.Equal(t, tt.want, out.String(), "%q lines %d piece %d", tt.msg, tt.lines, piece)
		}
	}
}

func TestWireSize(t *testing.T) {
	inputs := []string{"", "a", "a\n", "a\r\n", "a\r", "\r\r\n\n", ".\n..\r\n", "x\ry\rz", strings.Repeat("line\n", 20000)}
	for _, v := range dotVectors {
		inputs = append(inputs, v.in)
	}
	for _, in := range inputs {
		wire := dotWrite(t, in, 5)
		body, err := dotRead(t, wire, 1000, false)
		require.NoError(t, err)
		for _, one := range []bool{false, true} {
			var r io.Reader = strings.NewReader(in)
			if one {
				r = iotest.OneByteReader(r)
			}
			n, err := WireSize(r)
			require.NoError(t, err)
			want := len(body)
			if in != "" && !strings.HasSuffix(in, "\n") {
				want -= 2 // the CRLF added before the terminator
			}
			assert.Equal(t, int64(want), n, "%q", in)
		}
	}
}

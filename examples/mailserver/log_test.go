package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/smtp"
)

// logRecord is one line of slog's text output, key to value.
type logRecord map[string]string

var logAttr = regexp.MustCompile(`([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)`)

// logRecords parses the server's log (slog.TextHandler) into records.
func logRecords(t *testing.T, log string) []logRecord {
	t.Helper()
	var recs []logRecord
	for line := range strings.Lines(log) {
		rec := logRecord{}
		for _, m := range logAttr.FindAllStringSubmatch(line, -1) {
			v := m[2]
			if strings.HasPrefix(v, `"`) {
				u, err := strconv.Unquote(v)
				require.NoError(t, err, "log value %s in %q", v, line)
				v = u
			}
			rec[m[1]] = v
		}
		recs = append(recs, rec)
	}
	return recs
}

// findRecords returns the records with every key and value of match.
func findRecords(recs []logRecord, match logRecord) []logRecord {
	var out []logRecord
next:
	for _, r := range recs {
		for k, v := range match {
			if r[k] != v {
				continue next
			}
		}
		out = append(out, r)
	}
	return out
}

// Every connection is logged when it is accepted, with its listener and
// remote address, and again when it closes, with its duration; on every
// listener, the implicit-TLS ones included, before any handshake.
func TestLogConnections(t *testing.T) {
	t.Parallel()
	ts := startSystem(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	remotes := map[string]string{} // listener → the client's address
	for _, name := range []string{lnSMTP, lnSubmission, lnSubmissions, lnPOP3, lnPOP3S} {
		var c net.Conn
		var err error
		if name == lnSubmissions || name == lnPOP3S {
			c, err = (&tls.Dialer{Config: ts.client}).DialContext(ctx, "tcp", ts.Addr(name))
		} else {
			c, err = net.Dial("tcp", ts.Addr(name))
		}
		require.NoError(t, err, name)
		c.SetDeadline(time.Now().Add(20 * time.Second))
		// The greeting comes after the accept, so the record is written.
		greeting, err := bufio.NewReader(c).ReadString('\n')
		require.NoError(t, err, name)
		assert.Regexp(t, `^(220 |\+OK)`, greeting, name)
		remotes[name] = c.LocalAddr().String()
		recs := findRecords(logRecords(t, ts.logs.String()), logRecord{"msg": "connection", "listener": name, "remote": remotes[name]})
		require.Len(t, recs, 1, "%s: one record of the connection from %s in:\n%s", name, remotes[name], ts.logs.String())
		assert.Equal(t, "INFO", recs[0]["level"])
		require.NoError(t, c.Close())
	}
	// When the server has closed them, each connection is logged once more.
	for name, remote := range remotes {
		var recs []logRecord
		require.Eventually(t, func() bool {
			recs = findRecords(logRecords(t, ts.logs.String()), logRecord{"msg": "connection closed", "level": "INFO", "listener": name, "remote": remote})
			return len(recs) > 0
		}, 10*time.Second, 5*time.Millisecond, "%s: closing of %s logged", name, remote)
		require.Len(t, recs, 1, name)
		_, err := time.ParseDuration(recs[0]["duration"])
		assert.NoError(t, err, "duration of %s", name)
	}
}

// A delivery is logged with its connection's listener and remote address,
// the id of its Received field, the envelope, the user and the Maildir key
// and size of what was stored.
func TestLogDelivery(t *testing.T) {
	t.Parallel()
	ts := startSystem(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := smtp.DialStartTLS(ctx, ts.Addr(lnSubmission), &smtp.ClientOptions{TLSConfig: ts.client})
	require.NoError(t, err)
	defer c.Close()
	remote := c.Conn().LocalAddr().String()
	require.NoError(t, c.Auth(ctx, auth.NewPlainClient("", "alice", alicePass)))
	msg := []byte("Date: Tue, 24 Nov 2026 06:00:00 +0000\r\nMessage-ID: <log@example.test>\r\nSubject: logged\r\n\r\nbody\r\n")
	_, err = c.Send(ctx, &smtp.Envelope{From: smtp.MustParseMailbox("alice@" + testDomain), To: []smtp.Mailbox{smtp.MustParseMailbox("Bob@" + testDomain)}}, strings.NewReader(string(msg)))
	require.NoError(t, err)
	require.NoError(t, c.Quit(ctx))

	stored := ts.stored(t, "bob")
	require.Len(t, stored, 1)
	rcv := splitTrace(t, stored[0], msg, "alice@"+testDomain)
	recs := logRecords(t, ts.logs.String())
	require.Len(t, findRecords(recs, logRecord{"msg": "connection", "listener": lnSubmission, "remote": remote}), 1)
	require.Len(t, findRecords(recs, logRecord{"msg": "authenticated", "listener": lnSubmission, "remote": remote, "mech": "PLAIN", "user": "alice"}), 1)
	del := findRecords(recs, logRecord{"msg": "delivered", "listener": lnSubmission, "remote": remote})
	require.Len(t, del, 1, "one delivery record in:\n%s", ts.logs.String())
	assert.Equal(t, "INFO", del[0]["level"])
	assert.Equal(t, rcv.ID, del[0]["id"], "the id of the Received field")
	assert.Equal(t, "alice@"+testDomain, del[0]["from"])
	assert.Equal(t, "Bob@"+testDomain, del[0]["to"], "the recipient as given")
	assert.Equal(t, "bob", del[0]["user"])
	assert.Equal(t, strconv.Itoa(len(stored[0])), del[0]["size"], "the size stored, trace fields included")
	assert.NotEmpty(t, del[0]["key"])
	// The key names the file in new.
	assert.FileExists(t, ts.dir+"/mail/bob/new/"+del[0]["key"])
}

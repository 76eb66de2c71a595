package imapserver_test

import (
	"bufio"
	"crypto/tls"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/imap/imapserver"
	"github.com/mailwire/mailwire/internal/selfsigned"
)

func TestStartTLS(t *testing.T) {
	pair, err := selfsigned.NewPair()
	require.NoError(t, err)
	addr := start(t, &imapserver.Server{Backend: newBackend(t), TLSConfig: pair.Server})
	c := dial(t, addr)
	un, _ := c.do("a", "CAPABILITY")
	assert.Contains(t, un[0], "STARTTLS")
	assert.Contains(t, un[0], "LOGINDISABLED")
	// A command sent with STARTTLS, before the handshake, is dropped
	// (the STARTTLS injection attack).
	c.send("b STARTTLS\r\nc LOGIN alice secret\r\n")
	_, tagged := c.until("b")
	require.Equal(t, "b OK begin TLS negotiation now", tagged)
	tc := tls.Client(c.nc, pair.Client)
	require.NoError(t, tc.Handshake())
	c.nc, c.r = tc, bufio.NewReader(tc)
	un, tagged = c.do("d", "CAPABILITY")
	assert.NotContains(t, un[0], "STARTTLS")
	assert.NotContains(t, un[0], "LOGINDISABLED")
	assert.Contains(t, un[0], "AUTH=PLAIN")
	assert.Equal(t, "d OK CAPABILITY completed", tagged)
	_, tagged = c.do("e", "LOGIN alice secret")
	assert.True(t, strings.HasPrefix(tagged, "e OK"), tagged)
}

package imapserver

import (
	"strings"

	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/imap/imapwire"
)

// handler runs one command once its name is read: it reads the arguments,
// answers and returns nil, or returns a decoder error (answered BAD), or
// errClose or an I/O error to end the connection.
type handler struct {
	run    func(c *Conn, cmd imapwire.Command) error
	states [stateLogout]bool // the states the command is valid in
	uid    bool              // a UID form exists
}

var (
	anyState = [stateLogout]bool{true, true, true}
	notAuth  = [stateLogout]bool{stateNotAuthenticated: true}
	authed   = [stateLogout]bool{stateAuthenticated: true, stateSelected: true}
	selState = [stateLogout]bool{stateSelected: true}
)

// commands are the commands of RFC 3501 §6 and of the extensions
// announced, by name.
var commands map[string]handler

func init() {
	commands = map[string]handler{
		"CAPABILITY":   {run: (*Conn).cmdCapability, states: anyState},
		"NOOP":         {run: (*Conn).cmdNoop, states: anyState},
		"LOGOUT":       {run: (*Conn).cmdLogout, states: anyState},
		"STARTTLS":     {run: (*Conn).cmdStartTLS, states: notAuth},
		"LOGIN":        {run: (*Conn).cmdLogin, states: notAuth},
		"AUTHENTICATE": {run: (*Conn).cmdAuthenticate, states: notAuth},
		"SELECT":       {run: (*Conn).cmdSelect, states: authed},
		"EXAMINE":      {run: (*Conn).cmdSelect, states: authed},
		"CREATE":       {run: (*Conn).cmdCreate, states: authed},
		"DELETE":       {run: (*Conn).cmdDelete, states: authed},
		"RENAME":       {run: (*Conn).cmdRename, states: authed},
		"SUBSCRIBE":    {run: (*Conn).cmdSubscribe, states: authed},
		"UNSUBSCRIBE":  {run: (*Conn).cmdSubscribe, states: authed},
		"LIST":         {run: (*Conn).cmdList, states: authed},
		"LSUB":         {run: (*Conn).cmdList, states: authed},
		"STATUS":       {run: (*Conn).cmdStatus, states: authed},
		"APPEND":       {run: (*Conn).cmdAppend, states: authed},
		"IDLE":         {run: (*Conn).cmdIdle, states: authed},
		"CHECK":        {run: (*Conn).cmdCheck, states: selState},
		"CLOSE":        {run: (*Conn).cmdClose, states: selState},
		"UNSELECT":     {run: (*Conn).cmdClose, states: selState},
		"EXPUNGE":      {run: (*Conn).cmdExpunge, states: selState, uid: true},
		"SEARCH":       {run: (*Conn).cmdSearch, states: selState, uid: true},
		"FETCH":        {run: (*Conn).cmdFetch, states: selState, uid: true},
		"STORE":        {run: (*Conn).cmdStore, states: selState, uid: true},
		"COPY":         {run: (*Conn).cmdCopy, states: selState, uid: true},
		"MOVE":         {run: (*Conn).cmdCopy, states: selState, uid: true},
	}
}

// capabilities lists what the server offers now (RFC 3501 §7.2.1).
func (c *Conn) capabilities() imap.Capabilities {
	caps := imap.NewCapabilities(imap.CapIMAP4rev1, imap.CapLiteralPlus, imap.CapIdle,
		imap.CapUIDPlus, imap.CapUnselect, imap.CapMove)
	if c.state == stateNotAuthenticated {
		if c.tls == nil && c.srv.TLSConfig != nil {
			caps.Add(imap.CapStartTLS)
		}
		if !c.authAllowed() {
			// RFC 3501 §6.2.3, §7.2.1: LOGINDISABLED, and no AUTH=
			// mechanisms that would send a password in the clear.
			caps.Add(imap.CapLoginDisabled)
		} else if c.session != nil {
			caps.Add(imap.CapSASLIR)
			for _, m := range c.session.SASLMechanisms() {
				caps.Add(imap.Capability("AUTH=" + strings.ToUpper(m)))
			}
		}
	}
	return caps
}

// writeCapability writes the untagged CAPABILITY response.
func (c *Conn) writeCapability() {
	c.untagged("CAPABILITY " + strings.Join(c.capabilities().Strings(), " "))
}

func (c *Conn) cmdCapability(cmd imapwire.Command) error {
	if err := imapwire.ReadNoArgs(c.dec); err != nil {
		return err
	}
	c.writeCapability()
	return c.ok(cmd.Tag, cmd, nil, "CAPABILITY completed")
}

// cmdNoop also serves as the poll for updates (RFC 3501 §6.1.2), which ok
// sends.
func (c *Conn) cmdNoop(cmd imapwire.Command) error {
	if err := imapwire.ReadNoArgs(c.dec); err != nil {
		return err
	}
	return c.ok(cmd.Tag, cmd, nil, "NOOP completed")
}

func (c *Conn) cmdLogout(cmd imapwire.Command) error {
	if err := imapwire.ReadNoArgs(c.dec); err != nil {
		return err
	}
	// RFC 3501 §6.1.3: BYE, then the tagged OK.
	c.status("", imap.StatusBYE, nil, "logging out")
	c.status(cmd.Tag, imap.StatusOK, nil, "LOGOUT completed")
	c.state = stateLogout
	return errClose
}

// expungeAllowed reports whether EXPUNGE responses may be sent at the end
// of cmd: RFC 3501 §7.4.1 forbids them during FETCH, STORE and SEARCH,
// which refer to messages by sequence number (the UID forms may have them).
func expungeAllowed(cmd imapwire.Command) bool {
	switch cmd.Name {
	case "FETCH", "STORE", "SEARCH":
		return cmd.UID
	}
	return true
}

package smtp

import (
	"errors"
	"log/slog"
	"strings"
)

func (c *Conn) mail(arg string) {
	if c.helo == "" {
		c.reply(503, EnhancedCode{5, 5, 1}, "Send %s first", c.helloVerb())
		return
	}
	if c.from != nil {
		c.reply(503, EnhancedCode{5, 5, 1}, "Nested MAIL command")
		return
	}
	from, opts, err := parseMailArg(arg)
	if err != nil {
		c.replyParamErr(err, EnhancedCode{5, 1, 7}, 550)
		return
	}
	if opts.UTF8 && hasNonASCII(arg) && !c.ehlo {
		c.reply(555, EnhancedCode{5, 5, 4}, "SMTPUTF8 needs EHLO")
		return
	}
	// RFC 1870 §6.1: refuse early a message announced larger than the limit.
	if max := c.srv.limits().MaxMessageBytes; max > 0 && opts.Size > max {
		c.reply(552, EnhancedCode{5, 3, 4}, "Message size exceeds fixed maximum message size")
		return
	}
	if err := c.session.Mail(c.ctx, from, opts); err != nil {
		c.logf(slog.LevelInfo, "refused", "cmd", "MAIL", "from", from.String(), "err", err)
		c.replyErr(err)
		return
	}
	c.from, c.mailOpts = &from, opts
	c.reply(250, EnhancedCode{2, 1, 0}, "Ok")
}

// replyParamErr answers a MAIL or RCPT parse error: 555 for an unknown
// parameter (RFC 5321 §4.1.1.11), 501 otherwise, with the address code for a
// bad path, and nonASCII, with 5.6.7, for a UTF-8 path without SMTPUTF8 (RFC
// 6531 §3.5).
func (c *Conn) replyParamErr(err error, pathCode EnhancedCode, nonASCII int) {
	switch {
	case errors.Is(err, errNonASCII):
		c.reply(nonASCII, EnhancedCode{5, 6, 7}, "Non-ASCII addresses not permitted without SMTPUTF8")
	case errors.Is(err, errUnknownParam):
		c.reply(555, EnhancedCode{5, 5, 4}, "%s", strings.TrimPrefix(err.Error(), "smtp: "))
	case errors.Is(err, ErrPathSyntax):
		c.reply(501, pathCode, "%s", strings.TrimPrefix(err.Error(), "smtp: "))
	default:
		c.reply(501, EnhancedCode{5, 5, 4}, "%s", strings.TrimPrefix(err.Error(), "smtp: "))
	}
}

func (c *Conn) rcpt(arg string) {
	if c.from == nil {
		c.reply(503, EnhancedCode{5, 5, 1}, "Send MAIL first")
		return
	}
	if c.bdat {
		c.reply(503, EnhancedCode{5, 5, 1}, "RCPT after BDAT")
		return
	}
	if len(c.rcpts) >= c.srv.limits().MaxRecipients {
		// RFC 5321 §4.5.3.1.10: 452 too many recipients; not counted as an
		// error, the client sends the rest in another transaction.
		c.reply(452, EnhancedCode{4, 5, 3}, "Too many recipients")
		c.errors--
		return
	}
	to, opts, err := parseRcptArg(arg, c.mailOpts.UTF8)
	if err != nil {
		c.replyParamErr(err, EnhancedCode{5, 1, 3}, 553)
		return
	}
	if err := c.session.Rcpt(c.ctx, to, opts); err != nil {
		c.logf(slog.LevelInfo, "refused", "cmd", "RCPT", "to", to.String(), "err", err)
		c.replyErr(err)
		return
	}
	c.rcpts = append(c.rcpts, to)
	c.reply(250, EnhancedCode{2, 1, 5}, "Ok")
}

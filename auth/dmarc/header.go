package dmarc

import (
	"strings"

	"github.com/mailwire/mailwire/auth/authres"
)

// AuthResult returns the outcome as a resinfo for an
// Authentication-Results field (RFC 7489 §11.2, RFC 8601): method dmarc,
// the result, header.from the From domain, and a comment with the
// policy and the disposition ("p=reject dis=quarantine").
func (o *Outcome) AuthResult() authres.Result {
	r := authres.Result{Method: authres.MethodDMARC, Value: string(o.Result)}
	if r.Value == "" {
		r.Value = string(None)
	}
	if o.Policy != "" {
		var c strings.Builder
		c.WriteString(o.PolicyTag + "=" + string(o.Policy))
		if o.Result == Fail {
			c.WriteString(" dis=" + string(o.Disposition))
		}
		r.Comment = c.String()
	}
	if o.Domain != "" {
		r.Properties = []authres.Property{{Type: authres.PTypeHeader, Name: "from", Value: o.Domain}}
	}
	return r
}

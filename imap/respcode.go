package imap

import (
	"strconv"
	"strings"
)

// Code is the name of a response code, the atom inside "[...]" at the start
// of a status response's text (RFC 3501 §7.1), in upper case.
type Code string

// Response codes of RFC 3501 §7.1.
const (
	CodeAlert          Code = "ALERT"
	CodeBadCharset     Code = "BADCHARSET"
	CodeCapability     Code = "CAPABILITY"
	CodeParse          Code = "PARSE"
	CodePermanentFlags Code = "PERMANENTFLAGS"
	CodeReadOnly       Code = "READ-ONLY"
	CodeReadWrite      Code = "READ-WRITE"
	CodeTryCreate      Code = "TRYCREATE"
	CodeUIDNext        Code = "UIDNEXT"
	CodeUIDValidity    Code = "UIDVALIDITY"
	CodeUnseen         Code = "UNSEEN"
)

// Response codes of RFC 5530 §3.
const (
	CodeUnavailable          Code = "UNAVAILABLE"
	CodeAuthenticationFailed Code = "AUTHENTICATIONFAILED"
	CodeAuthorizationFailed  Code = "AUTHORIZATIONFAILED"
	CodeExpired              Code = "EXPIRED"
	CodePrivacyRequired      Code = "PRIVACYREQUIRED"
	CodeContactAdmin         Code = "CONTACTADMIN"
	CodeNoPerm               Code = "NOPERM"
	CodeInUse                Code = "INUSE"
	CodeExpungeIssued        Code = "EXPUNGEISSUED"
	CodeCorruption           Code = "CORRUPTION"
	CodeServerBug            Code = "SERVERBUG"
	CodeClientBug            Code = "CLIENTBUG"
	CodeCannot               Code = "CANNOT"
	CodeLimit                Code = "LIMIT"
	CodeOverQuota            Code = "OVERQUOTA"
	CodeAlreadyExists        Code = "ALREADYEXISTS"
	CodeNonExistent          Code = "NONEXISTENT"
)

// Response codes of extensions.
const (
	CodeAppendUID         Code = "APPENDUID"         // RFC 4315 §3: uidvalidity SP uid-set
	CodeCopyUID           Code = "COPYUID"           // RFC 4315 §3: uidvalidity SP src-uids SP dst-uids
	CodeUIDNotSticky      Code = "UIDNOTSTICKY"      // RFC 4315 §3
	CodeHighestModSeq     Code = "HIGHESTMODSEQ"     // RFC 7162 §3.1.2.1
	CodeNoModSeq          Code = "NOMODSEQ"          // RFC 7162 §3.1.2.2
	CodeModified          Code = "MODIFIED"          // RFC 7162 §3.1.3: sequence-set
	CodeClosed            Code = "CLOSED"            // RFC 7162 §3.2.11
	CodeUnknownCTE        Code = "UNKNOWN-CTE"       // RFC 3516 §4.3
	CodeTooBig            Code = "TOOBIG"            // RFC 7889 §4
	CodeNotSaved          Code = "NOTSAVED"          // RFC 5182 §2.4
	CodeHasChildren       Code = "HASCHILDREN"       // RFC 9051 §7.1
	CodeUseAttr           Code = "USEATTR"           // RFC 6154 §6
	CodeCompressionActive Code = "COMPRESSIONACTIVE" // RFC 4978 §4
	CodeBadComparator     Code = "BADCOMPARATOR"     // RFC 5255
	CodeMetadata          Code = "METADATA"          // RFC 5464 §4.2
)

// Temporary reports whether the code names a condition that may go away
// (RFC 5530 §3: UNAVAILABLE, INUSE, LIMIT, SERVERBUG; and OVERQUOTA, which
// expunging may cure).
func (c Code) Temporary() bool {
	switch c {
	case CodeUnavailable, CodeInUse, CodeLimit, CodeServerBug, CodeOverQuota:
		return true
	}
	return false
}

// ResponseCode is a response code with its arguments. The codes this
// package knows have their arguments parsed into the typed fields listed
// beside each; every other code keeps its argument text in Arg. Arg is also
// set, raw, for the known codes when the code came off the wire.
type ResponseCode struct {
	Code Code
	Arg  string // argument text as sent, without the brackets; "" if none

	Num         uint64       // UIDNEXT, UIDVALIDITY, UNSEEN, HIGHESTMODSEQ
	Flags       []Flag       // PERMANENTFLAGS
	Caps        Capabilities // CAPABILITY
	Charsets    []string     // BADCHARSET
	UIDValidity uint32       // APPENDUID, COPYUID
	SrcUIDs     UIDSet       // COPYUID source UIDs
	UIDs        UIDSet       // APPENDUID appended UIDs; COPYUID destination UIDs
	Modified    SeqSet       // MODIFIED (sequence numbers or UIDs, as the command used)
}

// Is reports whether the response code is c; it is false for a nil code.
func (rc *ResponseCode) Is(c Code) bool { return rc != nil && rc.Code == c }

// String returns the code as sent inside the brackets, arguments included.
// For the codes with typed fields, the fields are formatted; others give
// Arg.
func (rc *ResponseCode) String() string {
	if rc == nil {
		return ""
	}
	arg := rc.formatArg()
	if arg == "" {
		return string(rc.Code)
	}
	return string(rc.Code) + " " + arg
}

func (rc *ResponseCode) formatArg() string {
	switch rc.Code {
	case CodeUIDNext, CodeUIDValidity, CodeUnseen, CodeHighestModSeq:
		return strconv.FormatUint(rc.Num, 10)
	case CodePermanentFlags:
		var b strings.Builder
		b.WriteByte('(')
		for i, f := range rc.Flags {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(string(f))
		}
		b.WriteByte(')')
		return b.String()
	case CodeCapability:
		return strings.Join(rc.Caps.Strings(), " ")
	case CodeBadCharset:
		if len(rc.Charsets) == 0 {
			return ""
		}
		f := &textFormatter{}
		f.BeginList()
		for i, c := range rc.Charsets {
			if i > 0 {
				f.SP()
			}
			f.AString(c)
		}
		f.EndList()
		return f.b.String()
	case CodeAppendUID:
		return strconv.FormatUint(uint64(rc.UIDValidity), 10) + " " + rc.UIDs.String()
	case CodeCopyUID:
		return strconv.FormatUint(uint64(rc.UIDValidity), 10) + " " + rc.SrcUIDs.String() + " " + rc.UIDs.String()
	case CodeModified:
		return rc.Modified.String()
	}
	return rc.Arg
}

// ParseResponseCode parses the text between the brackets of a response
// code: the code name, and arguments for the codes this package knows.
// Unknown codes are accepted with their argument text in Arg.
func ParseResponseCode(s string) (*ResponseCode, error) {
	name, arg, _ := strings.Cut(s, " ")
	if !IsAtom(name) {
		return nil, &SyntaxError{What: "response code", Input: s, Msg: "code is not an atom"}
	}
	rc := &ResponseCode{Code: Code(strings.ToUpper(name)), Arg: arg}
	bad := func(msg string) (*ResponseCode, error) {
		return nil, &SyntaxError{What: "response code", Input: s, Msg: msg}
	}
	var err error
	switch rc.Code {
	case CodeUIDNext, CodeUIDValidity, CodeUnseen:
		if rc.Num, err = ParseNumber(arg, 32); err != nil {
			return bad(err.Error())
		}
	case CodeHighestModSeq:
		if rc.Num, err = ParseNumber(arg, 63); err != nil {
			return bad(err.Error())
		}
	case CodePermanentFlags:
		if len(arg) < 2 || arg[0] != '(' || arg[len(arg)-1] != ')' {
			return bad("expected a flag list")
		}
		for f := range strings.FieldsSeq(arg[1 : len(arg)-1]) {
			if !Flag(f).ValidPerm() {
				return bad("invalid flag " + strconv.Quote(f))
			}
			rc.Flags = append(rc.Flags, Flag(f))
		}
	case CodeCapability:
		rc.Caps = NewCapabilities()
		for c := range strings.FieldsSeq(arg) {
			rc.Caps.Add(Capability(c))
		}
	case CodeBadCharset:
		// "(" astring *(SP astring) ")"; charsets are atoms in practice,
		// quoted ones are unquoted here.
		a := strings.TrimSpace(arg)
		if a != "" {
			if a[0] != '(' || a[len(a)-1] != ')' {
				return bad("expected a charset list")
			}
			for c := range strings.FieldsSeq(a[1 : len(a)-1]) {
				rc.Charsets = append(rc.Charsets, strings.Trim(c, `"`))
			}
		}
	case CodeAppendUID, CodeCopyUID:
		f := strings.Fields(arg)
		want := 2
		if rc.Code == CodeCopyUID {
			want = 3
		}
		if len(f) != want {
			return bad("wrong number of arguments")
		}
		v, err := ParseNumber(f[0], 32)
		if err != nil || v == 0 {
			return bad("invalid UIDVALIDITY")
		}
		rc.UIDValidity = uint32(v)
		if rc.Code == CodeCopyUID {
			if rc.SrcUIDs, err = ParseUIDSet(f[1]); err != nil {
				return bad(err.Error())
			}
			f = f[1:]
		}
		if rc.UIDs, err = ParseUIDSet(f[1]); err != nil {
			return bad(err.Error())
		}
	case CodeModified:
		if rc.Modified, err = ParseSeqSet(arg); err != nil {
			return bad(err.Error())
		}
	}
	return rc, nil
}

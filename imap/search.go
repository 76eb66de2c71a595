package imap

import (
	"time"
)

// SearchOp names a search key (RFC 3501 §6.4.4, RFC 7162 §3.1.5, RFC 5032).
type SearchOp string

// Search keys. The comment says which SearchKey field holds the argument.
const (
	SearchAll        SearchOp = "ALL"
	SearchAnswered   SearchOp = "ANSWERED"
	SearchBcc        SearchOp = "BCC"    // Value
	SearchBefore     SearchOp = "BEFORE" // Date
	SearchBody       SearchOp = "BODY"   // Value
	SearchCc         SearchOp = "CC"     // Value
	SearchDeleted    SearchOp = "DELETED"
	SearchDraft      SearchOp = "DRAFT"
	SearchFlagged    SearchOp = "FLAGGED"
	SearchFrom       SearchOp = "FROM"    // Value
	SearchHeader     SearchOp = "HEADER"  // Field, Value
	SearchKeyword    SearchOp = "KEYWORD" // Flag
	SearchLarger     SearchOp = "LARGER"  // Num
	SearchNew        SearchOp = "NEW"
	SearchNot        SearchOp = "NOT" // Keys[0]
	SearchOld        SearchOp = "OLD"
	SearchOn         SearchOp = "ON" // Date
	SearchOr         SearchOp = "OR" // Keys[0], Keys[1]
	SearchRecent     SearchOp = "RECENT"
	SearchSeen       SearchOp = "SEEN"
	SearchSentBefore SearchOp = "SENTBEFORE" // Date
	SearchSentOn     SearchOp = "SENTON"     // Date
	SearchSentSince  SearchOp = "SENTSINCE"  // Date
	SearchSince      SearchOp = "SINCE"      // Date
	SearchSmaller    SearchOp = "SMALLER"    // Num
	SearchSubject    SearchOp = "SUBJECT"    // Value
	SearchText       SearchOp = "TEXT"       // Value
	SearchTo         SearchOp = "TO"         // Value
	SearchUID        SearchOp = "UID"        // UIDs
	SearchUnanswered SearchOp = "UNANSWERED"
	SearchUndeleted  SearchOp = "UNDELETED"
	SearchUndraft    SearchOp = "UNDRAFT"
	SearchUnflagged  SearchOp = "UNFLAGGED"
	SearchUnkeyword  SearchOp = "UNKEYWORD" // Flag
	SearchUnseen     SearchOp = "UNSEEN"

	// SearchSeqSet is a bare sequence set (Seq).
	SearchSeqSet SearchOp = "SEQSET"
	// SearchAnd is a parenthesised list of keys, all of which must match
	// (Keys).
	SearchAnd SearchOp = "AND"

	SearchModSeq  SearchOp = "MODSEQ"  // RFC 7162 §3.1.5: Num, and optionally ModSeqEntry, ModSeqType
	SearchOlder   SearchOp = "OLDER"   // RFC 5032: Num seconds
	SearchYounger SearchOp = "YOUNGER" // RFC 5032: Num seconds
)

// SearchKey is a node of a search criteria tree.
type SearchKey struct {
	Op    SearchOp
	Field string    // HEADER field name
	Value string    // text argument
	Date  time.Time // date argument; only its year, month and day count
	Num   uint64    // LARGER, SMALLER, MODSEQ, OLDER, YOUNGER
	Flag  Flag      // KEYWORD, UNKEYWORD
	Seq   SeqSet    // SEQSET
	UIDs  UIDSet    // UID

	// MODSEQ's optional metadata item, "/flags/\\Seen", and its type,
	// "priv", "shared" or "all" (RFC 7162 §3.1.5).
	ModSeqEntry, ModSeqType string

	Keys []SearchKey // AND, OR (two), NOT (one)
}

// SearchCriteria is the argument of SEARCH: an optional charset for the
// strings (RFC 3501 §6.4.4; "" means US-ASCII, or UTF-8 after ENABLE
// UTF8=ACCEPT) and keys that must all match.
type SearchCriteria struct {
	Charset string
	Keys    []SearchKey
}

// Not returns NOT k.
func Not(k SearchKey) SearchKey { return SearchKey{Op: SearchNot, Keys: []SearchKey{k}} }

// Or returns OR a b.
func Or(a, b SearchKey) SearchKey { return SearchKey{Op: SearchOr, Keys: []SearchKey{a, b}} }

// And returns the parenthesised list of keys.
func And(keys ...SearchKey) SearchKey { return SearchKey{Op: SearchAnd, Keys: keys} }

// ArgKind tells which argument a search key takes.
type ArgKind int

// Argument kinds of search keys.
const (
	ArgNone ArgKind = iota
	ArgString
	ArgHeader // field name and string
	ArgDate
	ArgNumber
	ArgFlag
	ArgSeqSet
	ArgUIDSet
	ArgKeys1
	ArgKeys2
	ArgModSeq
)

// SearchArg returns the argument kind of a key, and false for an unknown
// key. A server's parser and a client's formatter both follow it.
func SearchArg(op SearchOp) (ArgKind, bool) {
	switch op {
	case SearchAll, SearchAnswered, SearchDeleted, SearchDraft, SearchFlagged, SearchNew,
		SearchOld, SearchRecent, SearchSeen, SearchUnanswered, SearchUndeleted,
		SearchUndraft, SearchUnflagged, SearchUnseen:
		return ArgNone, true
	case SearchBcc, SearchBody, SearchCc, SearchFrom, SearchSubject, SearchText, SearchTo:
		return ArgString, true
	case SearchHeader:
		return ArgHeader, true
	case SearchBefore, SearchOn, SearchSentBefore, SearchSentOn, SearchSentSince, SearchSince:
		return ArgDate, true
	case SearchLarger, SearchSmaller, SearchOlder, SearchYounger:
		return ArgNumber, true
	case SearchKeyword, SearchUnkeyword:
		return ArgFlag, true
	case SearchSeqSet:
		return ArgSeqSet, true
	case SearchUID:
		return ArgUIDSet, true
	case SearchNot:
		return ArgKeys1, true
	case SearchOr:
		return ArgKeys2, true
	case SearchModSeq:
		return ArgModSeq, true
	case SearchAnd:
		return ArgNone, true
	}
	return 0, false
}

// Format writes the key in wire syntax. Keys with the wrong number of
// children write what they have; Validate reports them.
func (k SearchKey) Format(f Formatter) {
	switch k.Op {
	case SearchSeqSet:
		f.Atom(k.Seq.String())
		return
	case SearchAnd:
		f.BeginList()
		for i, c := range k.Keys {
			if i > 0 {
				f.SP()
			}
			c.Format(f)
		}
		f.EndList()
		return
	}
	f.Atom(string(k.Op))
	kind, _ := SearchArg(k.Op)
	switch kind {
	case ArgString:
		f.SP()
		f.AString(k.Value)
	case ArgHeader:
		f.SP()
		f.AString(k.Field)
		f.SP()
		f.AString(k.Value)
	case ArgDate:
		f.SP()
		f.Atom(FormatDate(k.Date))
	case ArgNumber:
		f.SP()
		f.Number(k.Num)
	case ArgFlag:
		f.SP()
		f.Atom(string(k.Flag))
	case ArgUIDSet:
		f.SP()
		f.Atom(k.UIDs.String())
	case ArgKeys1, ArgKeys2:
		for _, c := range k.Keys {
			f.SP()
			c.Format(f)
		}
	case ArgModSeq:
		if k.ModSeqEntry != "" {
			f.SP()
			f.String(k.ModSeqEntry)
			f.SP()
			f.Atom(k.ModSeqType)
		}
		f.SP()
		f.Number(k.Num)
	}
}

// String returns the key in wire syntax (strings that cannot be quoted
// appear as synchronising literals).
func (k SearchKey) String() string { return formatString(k.Format) }

// Validate checks the key tree: known keys, the right number of children,
// arguments in range.
func (k SearchKey) Validate() error {
	bad := func(msg string) error { return &SyntaxError{What: "search key", Input: string(k.Op), Msg: msg} }
	kind, ok := SearchArg(k.Op)
	if !ok {
		return bad("unknown key")
	}
	switch kind {
	case ArgKeys1:
		if len(k.Keys) != 1 {
			return bad("NOT takes one key")
		}
	case ArgKeys2:
		if len(k.Keys) != 2 {
			return bad("OR takes two keys")
		}
	case ArgFlag:
		if !ValidKeyword(string(k.Flag)) {
			return bad("invalid keyword")
		}
	case ArgSeqSet:
		if len(k.Seq) == 0 {
			return bad("empty sequence set")
		}
	case ArgUIDSet:
		if len(k.UIDs) == 0 {
			return bad("empty UID set")
		}
	case ArgModSeq:
		if k.ModSeqEntry != "" {
			switch k.ModSeqType {
			case "priv", "shared", "all":
			default:
				return bad("MODSEQ entry type must be priv, shared or all")
			}
		}
	case ArgNumber:
		if k.Num >= 1<<32 && k.Op != SearchModSeq {
			return bad("number out of range")
		}
	}
	if k.Op == SearchAnd && len(k.Keys) == 0 {
		return bad("empty key list")
	}
	for _, c := range k.Keys {
		if err := c.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Format writes the criteria as SEARCH's arguments: "CHARSET x" when a
// charset is set, then the keys separated by spaces. No keys writes ALL.
func (c SearchCriteria) Format(f Formatter) {
	if c.Charset != "" {
		f.Atom("CHARSET")
		f.SP()
		f.AString(c.Charset)
		f.SP()
	}
	if len(c.Keys) == 0 {
		f.Atom(string(SearchAll))
		return
	}
	for i, k := range c.Keys {
		if i > 0 {
			f.SP()
		}
		k.Format(f)
	}
}

// String returns the criteria in wire syntax.
func (c SearchCriteria) String() string { return formatString(c.Format) }

// Validate validates every key.
func (c SearchCriteria) Validate() error {
	for _, k := range c.Keys {
		if err := k.Validate(); err != nil {
			return err
		}
	}
	return nil
}

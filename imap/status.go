package imap

// StatusItem is a STATUS data item name (RFC 3501 §6.3.10, RFC 9051
// §6.3.11).
type StatusItem string

// Status items.
const (
	StatusMessages      StatusItem = "MESSAGES"
	StatusRecent        StatusItem = "RECENT" // not in IMAP4rev2
	StatusUIDNext       StatusItem = "UIDNEXT"
	StatusUIDValidity   StatusItem = "UIDVALIDITY"
	StatusUnseen        StatusItem = "UNSEEN"
	StatusDeleted       StatusItem = "DELETED"       // RFC 9051
	StatusSize          StatusItem = "SIZE"          // RFC 8438, RFC 9051
	StatusHighestModSeq StatusItem = "HIGHESTMODSEQ" // RFC 7162 §3.1.6
	StatusAppendLimit   StatusItem = "APPENDLIMIT"   // RFC 7889
)

// StatusData is the content of a STATUS response: the mailbox name
// (decoded) and the items the server returned; an item not returned is nil.
type StatusData struct {
	Mailbox string

	Messages      *uint32
	Recent        *uint32
	UIDNext       *uint32
	UIDValidity   *uint32
	Unseen        *uint32
	Deleted       *uint32
	Size          *int64
	HighestModSeq *uint64
	AppendLimit   *uint64 // nil also when the server sent NIL (no limit)
}

package imap

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestSearchFormat(t *testing.T) {
	day := time.Date(1994, 2, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		c    SearchCriteria
		want string
	}{
		{SearchCriteria{}, "ALL"},
		// RFC 3501 §6.4.4's examples.
		{SearchCriteria{Keys: []SearchKey{{Op: SearchFlagged}, {Op: SearchSince, Date: day}, Not(SearchKey{Op: SearchFrom, Value: "Smith"})}},
			`FLAGGED SINCE 1-Feb-1994 NOT FROM Smith`},
		{SearchCriteria{Keys: []SearchKey{{Op: SearchText, Value: "string not in mailbox"}}}, `TEXT "string not in mailbox"`},
		{SearchCriteria{Charset: "UTF-8", Keys: []SearchKey{{Op: SearchSubject, Value: "日本"}}}, "CHARSET UTF-8 SUBJECT {6}\r\n日本"},
		{SearchCriteria{Keys: []SearchKey{Or(SearchKey{Op: SearchSeen}, And(SearchKey{Op: SearchLarger, Num: 100}, SearchKey{Op: SearchKeyword, Flag: "$Junk"}))}},
			`OR SEEN (LARGER 100 KEYWORD $Junk)`},
		{SearchCriteria{Keys: []SearchKey{{Op: SearchSeqSet, Seq: SeqSet{{1, 4}, {7, Star}}}, {Op: SearchUID, UIDs: UIDSet{{5, 5}}}}}, `1:4,7:* UID 5`},
		{SearchCriteria{Keys: []SearchKey{{Op: SearchHeader, Field: "Message-ID", Value: "<a@b>"}}}, `HEADER Message-ID <a@b>`},
		{SearchCriteria{Keys: []SearchKey{{Op: SearchModSeq, ModSeqEntry: `/flags/\draft`, ModSeqType: "all", Num: 620162338}}},
			`MODSEQ "/flags/\\draft" all 620162338`},
		{SearchCriteria{Keys: []SearchKey{{Op: SearchYounger, Num: 3600}, {Op: SearchOlder, Num: 60}}}, `YOUNGER 3600 OLDER 60`},
		{SearchCriteria{Keys: []SearchKey{{Op: SearchBody, Value: ""}}}, `BODY ""`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.c.String())
		assert.NoError(t, tt.c.Validate(), tt.want)
	}
	for _, bad := range []SearchKey{{Op: "NOPE"}, {Op: SearchNot}, {Op: SearchOr, Keys: []SearchKey{{Op: SearchAll}}},
		{Op: SearchKeyword, Flag: `\Seen`}, {Op: SearchSeqSet}, {Op: SearchUID}, {Op: SearchAnd},
		{Op: SearchModSeq, ModSeqEntry: "x", ModSeqType: "bad"}, {Op: SearchLarger, Num: 1 << 32},
		Not(SearchKey{Op: SearchNot})} {
		assert.Error(t, bad.Validate(), "%+v", bad)
	}
}

package sportello

import (
	"fmt"
	"regexp"
	"strconv"
)

// ProtocolNumber is the registration number of an incoming document (DPR 445/2000 art. 57): a
// progressive number of at least seven digits that restarts every calendar year, never reused
// and never edited. It is assigned in the transaction that stores the ticket.
type ProtocolNumber struct {
	Year int
	Seq  int
}

func (p ProtocolNumber) String() string { return fmt.Sprintf("%04d/%07d", p.Year, p.Seq) }

var protocolPattern = regexp.MustCompile(`^(\d{4})/(\d{7,})$`)

// ParseProtocolNumber reads "YYYY/NNNNNNN". Errors: BAD_USER_INPUT naming field.
func ParseProtocolNumber(field, s string) (ProtocolNumber, error) {
	m := protocolPattern.FindStringSubmatch(s)
	if m == nil {
		return ProtocolNumber{}, InvalidField(field, "a protocol number looks like 2026/0000123")
	}
	year, _ := strconv.Atoi(m[1])
	seq, err := strconv.Atoi(m[2])
	if err != nil || seq < 1 {
		return ProtocolNumber{}, InvalidField(field, "a protocol number looks like 2026/0000123")
	}
	return ProtocolNumber{Year: year, Seq: seq}, nil
}

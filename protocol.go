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

// String writes "YYYY/NNNNNNN". It is on every ticket a list shows, so it pads by hand rather
// than through fmt, which cost as much as the rest of the field.
func (p ProtocolNumber) String() string {
	if p.Year < 0 || p.Seq < 0 {
		return fmt.Sprintf("%04d/%07d", p.Year, p.Seq)
	}
	b := make([]byte, 0, 16)
	b = appendPadded(b, p.Year, 4)
	b = append(b, '/')
	return string(appendPadded(b, p.Seq, 7))
}

// appendPadded appends n, not negative, in decimal with zeros before it up to width digits.
func appendPadded(b []byte, n, width int) []byte {
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], int64(n), 10)
	for i := len(d); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, d...)
}

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

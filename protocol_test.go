package sportello

import "testing"

func TestProtocolNumberStringPadsTheSequenceToSevenDigits(t *testing.T) {
	cases := []struct {
		p    ProtocolNumber
		want string
	}{
		{ProtocolNumber{Year: 2026, Seq: 1}, "2026/0000001"},
		{ProtocolNumber{Year: 2026, Seq: 123}, "2026/0000123"},
		{ProtocolNumber{Year: 2027, Seq: 9999999}, "2027/9999999"},
		{ProtocolNumber{Year: 2027, Seq: 10000000}, "2027/10000000"},
		{ProtocolNumber{Year: 2027, Seq: 123456789}, "2027/123456789"},
		{ProtocolNumber{Year: 999, Seq: 0}, "0999/0000000"},
		{ProtocolNumber{Year: 2026, Seq: -5}, "2026/-000005"},
	}
	for _, tc := range cases {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.p, got, tc.want)
		}
	}
}

func TestParseProtocolNumberAcceptsSevenOrMoreDigits(t *testing.T) {
	cases := []struct {
		in   string
		want ProtocolNumber
	}{
		{"2026/0000123", ProtocolNumber{Year: 2026, Seq: 123}},
		{"2026/0000001", ProtocolNumber{Year: 2026, Seq: 1}},
		{"2027/9999999", ProtocolNumber{Year: 2027, Seq: 9999999}},
		{"2026/12345678", ProtocolNumber{Year: 2026, Seq: 12345678}},
		{"2026/00000000042", ProtocolNumber{Year: 2026, Seq: 42}},
	}
	for _, tc := range cases {
		got, err := ParseProtocolNumber("protocol", tc.in)
		wantNoError(t, err)
		if got != tc.want {
			t.Errorf("ParseProtocolNumber(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestParseProtocolNumberReadsWhatStringWrites(t *testing.T) {
	for _, p := range []ProtocolNumber{{2026, 1}, {2026, 123}, {2026, 9999999}, {2030, 10000000}} {
		got, err := ParseProtocolNumber("protocol", p.String())
		wantNoError(t, err)
		if got != p {
			t.Errorf("ParseProtocolNumber(%q) = %+v, want %+v", p.String(), got, p)
		}
	}
}

func TestParseProtocolNumberRejectsOtherShapes(t *testing.T) {
	for _, in := range []string{
		"",
		"2026",
		"2026/",
		"/0000123",
		"2026/123",
		"2026/000123",   // six digits
		"26/0000123",    // two-digit year
		"02026/0000123", // five-digit year
		"2026-0000123",
		"2026\\0000123",
		"2026 /0000123",
		"2026/ 0000123",
		" 2026/0000123",
		"2026/0000123 ",
		"2026/0000123\n",
		"2026/0000000", // sequences start at 1
		"2026/-000123",
		"2026/+000123",
		"2026/000012a",
		"abcd/0000123",
		"2026/0000123/1",
		"2026/0000123a",
		"2026/99999999999999999999999", // does not fit an int
		"２０２６/0000123",                 // full-width digits
	} {
		t.Run(in, func(t *testing.T) {
			got, err := ParseProtocolNumber("receipt.protocol", in)
			wantError(t, err, CodeBadUserInput, "receipt.protocol")
			if got != (ProtocolNumber{}) {
				t.Errorf("got %+v with the error, want the zero ProtocolNumber", got)
			}
		})
	}
}

package sportello

import (
	"testing"
	"time"
)

func TestOpen311RequestIDsRoundTripProtocolNumbers(t *testing.T) {
	p := ProtocolNumber{Year: 2026, Seq: 123}
	if id := Open311RequestID(p); id != "2026-0000123" {
		t.Fatalf("Open311RequestID = %q", id)
	}
	for _, s := range []string{"2026-0000123", "2026/0000123", " 2026-123 "} {
		if got, err := ParseOpen311RequestID(s); err != nil || got != p {
			t.Fatalf("ParseOpen311RequestID(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "2026-0000000", "26-1", "2026-12345678", "x"} {
		if _, err := ParseOpen311RequestID(s); ErrorCode(err) != CodeNotFound {
			t.Fatalf("ParseOpen311RequestID(%q) err = %v, want NOT_FOUND", s, err)
		}
	}
}

func TestOpen311FilterDefaultsToTheLastNinetyDays(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, Rome)
	var f Open311Filter
	if err := f.Validate(now); err != nil {
		t.Fatal(err)
	}
	if !f.End.Equal(now) || !f.Start.Equal(now.Add(-90*24*time.Hour)) {
		t.Fatalf("window %v – %v", f.Start, f.End)
	}
	end := time.Date(2026, 1, 31, 0, 0, 0, 0, Rome)
	f = Open311Filter{End: &end}
	f.Validate(now)
	if !f.Start.Equal(end.Add(-90 * 24 * time.Hour)) {
		t.Fatalf("start %v", f.Start)
	}
	f = Open311Filter{Statuses: []string{"closed"}}
	f.Validate(now)
	if got := f.StatusesOf(); len(got) != 3 || got[0] != StatusResolved {
		t.Fatalf("closed statuses = %v", got)
	}
	for _, bad := range []Open311Filter{{Statuses: []string{"pending"}}, {Start: &now, End: &end}} {
		if err := bad.Validate(now); ErrorCode(err) != CodeBadUserInput {
			t.Fatalf("Validate(%+v) = %v", bad, err)
		}
	}
}

func TestOpen311AttributesAreCheckedAgainstTheService(t *testing.T) {
	def := &Open311ServiceDef{Code: "x", Attributes: []*Open311Attribute{
		{Code: "A", DataType: "singlevaluelist", Required: true, Values: []Open311Value{{Key: "si"}, {Key: "no"}}},
		{Code: "B", DataType: "multivaluelist", Values: []Open311Value{{Key: "1"}, {Key: "2"}}},
		{Code: "C", DataType: "string"},
	}}
	cases := []struct {
		name   string
		values map[string][]string
		field  string
	}{
		{"all good", map[string][]string{"A": {"si"}, "B": {"1", "2"}, "C": {"testo libero"}}, ""},
		{"required missing", map[string][]string{"C": {"x"}}, "attribute[A]"},
		{"required blank", map[string][]string{"A": {" "}}, "attribute[A]"},
		{"not in the list", map[string][]string{"A": {"forse"}}, "attribute[A]"},
		{"two values for one", map[string][]string{"A": {"si", "no"}}, "attribute[A]"},
		{"unknown attribute", map[string][]string{"A": {"si"}, "Z": {"1"}}, "attribute[Z]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := def.CheckAttributes(c.values)
			if c.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if ErrorCode(err) != CodeBadUserInput || err.(*Error).Field != c.field {
				t.Fatalf("err = %v, want BAD_USER_INPUT on %s", err, c.field)
			}
		})
	}
}

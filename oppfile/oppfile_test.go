package oppfile

import (
	"strings"
	"testing"
)

func TestReadRefusesFilesItCannotRead(t *testing.T) {
	mapping := &Mapping{Columns: map[string]string{"title": "Titolo", "category": "Tipo"}}
	tests := []struct {
		name, file, body string
		mapping          *Mapping
		want             string
	}{
		{"unknown column", "feed.csv", "title,category,colour\n", nil, `unknown column "colour"`},
		{"mapped column missing", "partner.csv", "Titolo,Categoria\n", mapping, `the column "Tipo" (for category) is missing`},
		{"mapping of JSON", "feed.json", `{"opportunities": []}`, mapping, "a mapping reads CSV files only"},
		{"unknown JSON field", "feed.json", `{"opportunities": [{"titolo": "x"}]}`, nil, `unknown field "titolo"`},
		{"other format", "feed.xlsx", "", nil, "must end in .json or .csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(tt.file, strings.NewReader(tt.body), tt.mapping)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestReadNumbersRowsAsSpreadsheetsDo(t *testing.T) {
	entries, err := Read("feed.csv", strings.NewReader("title,category,minAge,remote\nUno,JOB,18,si\n\"Due\nrighe\",JOB,molti,\nTre,JOB,,forse\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		s := e.Row
		if e.Err != nil {
			s += ": " + e.Err.Error()
		}
		got = append(got, s)
	}
	want := []string{"row 2", `row 3: BAD_USER_INPUT: minAge: must be a whole number, not "molti"`,
		`row 5: BAD_USER_INPUT: remote: must be true or false, not "forse"`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !entries[0].Opportunity.Remote || entries[0].Opportunity.MinAge != 18 {
		t.Fatalf("read %+v", entries[0].Opportunity)
	}
}

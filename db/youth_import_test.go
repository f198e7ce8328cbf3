package db_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/oppfile"
)

const opportunitiesCSV = `source,externalRef,category,title,country,minAge,maxAge,languages,deadline,latitude,longitude,office,status,withdrawn
EURODESK,ED-1,VOLUNTEERING,Volontariato a Lisbona,PT,18,30,en|pt,2026-12-20,38.72,-9.14,Informagiovani,,
EURODESK,ED-2,JOB,Lavoro senza titolo che manca,,,,,,,,,,
EURODESK,ED-3,PARTY,Festa in spiaggia,ES,,,,,,,,,
EURODESK,ED-4,JOB,Età impossibile,IT,30,18,,,,,,,
EURODESK,ED-5,INTERNSHIP,Tirocinio a Berlino,DE,,,de,2026-13-01,,,,,
EURODESK,,INTERNSHIP,Senza riferimento,DE,,,,,,,,,
LOCAL,IG-1,STUDY_TRAINING,Corso di fotografia,IT,,,it,,,,Ufficio che non esiste,,
EURODESK,ED-6,JOB,Ritirato dalla fonte,IT,,,,,,,,,yes
`

func importOpportunities(t *testing.T, s *db.YouthService, d *db.DB, name, body string, mapping *oppfile.Mapping, full bool) *oppfile.Report {
	t.Helper()
	entries, err := oppfile.Read(name, strings.NewReader(body), mapping)
	if err != nil {
		t.Fatal(err)
	}
	offices, err := db.NewOfficeService(d).Offices(youthCtx())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := oppfile.Import(youthCtx(), s, offices, entries, full, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestOpportunityImportIsIdempotentAndReportsRejectedRows(t *testing.T) {
	d, s := newYouthDB(t)
	newDescribedOffice(t, d, "Informagiovani", "")
	rep := importOpportunities(t, s, d, "feed.csv", opportunitiesCSV, nil, false)
	var rejected []string
	for _, r := range rep.Rejected {
		rejected = append(rejected, r.String())
	}
	want := []string{
		`row 4: category: unknown category "PARTY"`,
		`row 5: maxAge: must not be below minAge`,
		`row 6: deadline: must be a date YYYY-MM-DD, not "2026-13-01"`,
		`row 7: externalRef: an opportunity from EURODESK needs the source's reference`,
		`row 8: office: no office is named "Ufficio che non esiste"`,
	}
	if rep.Created != 3 || !slices.Equal(rejected, want) {
		t.Fatalf("created %d, rejected:\n%s", rep.Created, strings.Join(rejected, "\n"))
	}
	again := importOpportunities(t, s, d, "feed.csv", opportunitiesCSV, nil, false)
	if again.Created != 0 || again.Updated != 0 || again.Unchanged != 3 {
		t.Fatalf("second import: %+v", again)
	}
	var withdrawn string
	if err := d.Get(&withdrawn, `SELECT status FROM opportunities WHERE external_ref = 'ED-6'`); err != nil || withdrawn != "WITHDRAWN" {
		t.Fatalf("a row marked withdrawn is %q, %v", withdrawn, err)
	}
	p, err := s.Opportunities(anonymousCtx(), sportello.OpportunityFilter{}, sportello.Page{})
	if err != nil || !slices.Equal(titles(p), []string{"Volontariato a Lisbona", "Lavoro senza titolo che manca"}) {
		t.Fatalf("public list %q, %v", titles(p), err)
	}
	if o := p.Opportunities[0]; o.Location == nil || o.Location.Latitude != 38.72 || o.OfficeID == "" || len(o.Languages) != 2 {
		t.Fatalf("imported %+v", o)
	}

	// Exported and imported back, nothing changes.
	all, err := s.ExportOpportunities(youthCtx())
	if err != nil {
		t.Fatal(err)
	}
	offices, _ := db.NewOfficeService(d).Offices(youthCtx())
	names := map[string]string{}
	for _, o := range offices {
		names[o.ID] = o.Name
	}
	for _, name := range []string{"export.csv", "export.json"} {
		var buf bytes.Buffer
		if err := oppfile.Write(name, &buf, all, names); err != nil {
			t.Fatal(err)
		}
		back := importOpportunities(t, s, d, name, buf.String(), nil, false)
		if back.Unchanged != 3 || back.Created+back.Updated+len(back.Rejected) != 0 {
			t.Fatalf("%s imported back: %+v", name, back)
		}
	}
}

func TestFullFeedWithdrawsWhatItNoLongerLists(t *testing.T) {
	d, s := newYouthDB(t)
	first := `{"opportunities": [
		{"source": "EURES", "externalRef": "A", "category": "JOB", "title": "Cuoco ad Amburgo", "country": "DE"},
		{"source": "EURES", "externalRef": "B", "category": "JOB", "title": "Barista a Vienna", "country": "AT"},
		{"source": "EURODESK", "externalRef": "A", "category": "VOLUNTEERING", "title": "Volontariato a Praga"}]}`
	if rep := importOpportunities(t, s, d, "feed.json", first, nil, true); rep.Created != 3 || rep.Withdrawn != 0 {
		t.Fatalf("first import: %+v", rep)
	}
	second := `{"opportunities": [
		{"source": "EURES", "externalRef": "A", "category": "JOB", "title": "Cuoco ad Amburgo", "country": "DE"}]}`
	if rep := importOpportunities(t, s, d, "feed.json", second, nil, true); rep.Unchanged != 1 || rep.Withdrawn != 1 {
		t.Fatalf("second import: %+v", rep)
	}
	p, err := s.Opportunities(anonymousCtx(), sportello.OpportunityFilter{}, sportello.Page{})
	if err != nil {
		t.Fatal(err)
	}
	// Neither has a deadline, so their order is their ids'.
	got := titles(p)
	slices.Sort(got)
	if !slices.Equal(got, []string{"Cuoco ad Amburgo", "Volontariato a Praga"}) {
		t.Fatalf("after the full feed: %q (another source's opportunities stay)", got)
	}
}

func TestPartnerCSVThroughAMapping(t *testing.T) {
	d, s := newYouthDB(t)
	mapping, err := oppfile.ReadMapping(strings.NewReader(`{
		"columns": {"externalRef": "Codice", "title": "Titolo", "category": "Tipologia", "deadline": "Scadenza",
		            "country": "Paese", "languages": "Lingue"},
		"values": {"category": {"Lavoro": "JOB", "Tirocinio": "INTERNSHIP"}},
		"defaults": {"source": "OTHER"},
		"dateLayout": "02/01/2006", "listSeparator": ";"}`))
	if err != nil {
		t.Fatal(err)
	}
	partner := `Codice,Titolo,Tipologia,Scadenza,Paese,Lingue
P-1,Tirocinio in un museo,Tirocinio,31/12/2026,IT,it;en
P-2,Commesso,Lavoro,31-12-2026,IT,it
`
	rep := importOpportunities(t, s, d, "partner.csv", partner, mapping, false)
	if rep.Created != 1 || len(rep.Rejected) != 1 || rep.Rejected[0].String() != `row 3: deadline: must be a date as 02/01/2006, not "31-12-2026"` {
		t.Fatalf("report %+v", rep)
	}
	p, err := s.Opportunities(anonymousCtx(), sportello.OpportunityFilter{}, sportello.Page{})
	if err != nil || len(p.Opportunities) != 1 {
		t.Fatal(p, err)
	}
	o := p.Opportunities[0]
	if o.Category != sportello.CategoryInternship || o.Source != sportello.SourceOther || o.Deadline.String() != "2026-12-31" ||
		!slices.Equal(o.Languages, []string{"it", "en"}) {
		t.Fatalf("imported %+v", o)
	}
	if _, err := oppfile.ReadMapping(strings.NewReader(`{"columns": {"titolo": "Titolo"}}`)); err == nil {
		t.Fatal("a mapping of an unknown field was accepted")
	}
}

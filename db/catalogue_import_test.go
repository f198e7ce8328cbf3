package db_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/catfile"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/db/dbtest"
)

const importCSV = `type,slug,title,name,summary,office,channels,topics,code,legalBasis,maxDays,silentConsent,actType,number,date,publishedFrom,status
service,carta-identita,Carta d'identità elettronica,,Rilascio della CIE,Anagrafe,WEB|COUNTER,documenti|anagrafe,,,,,,,,,
service,,Senza riassunto,,,Anagrafe,,,,,,,,,,,
service,tari,TARI,,Tassa sui rifiuti,Ufficio che non esiste,,,,,,,,,,,
procedure,,,Rilascio della CIE,,Anagrafe,,,ANA-02,D.L. 78/2015,6,no,,,,,
procedure,,,Rimborso,,Anagrafe,,,TRI-01,L. 296/2006,molti,,,,,,
act,,Ordinanza sul traffico,,,,,,,,,,ORDINANCE,12,2026-03-02,2026-03-03,
act,,Ordinanza senza data,,,,,,,,,,ORDINANCE,13,,,
service,bozza,Bozza,,In preparazione,,,,,,,,,,,,DRAFT
`

func importFile(t *testing.T, d *db.DB, name, body string) *catfile.Report {
	t.Helper()
	entries, err := catfile.Read(name, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	offices, err := db.NewOfficeService(d).Offices(editorCtx())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := catfile.Import(editorCtx(), db.NewCatalogueService(d), offices, entries, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestImportReportsBadRowsAndImportsTheRest(t *testing.T) {
	d := dbtest.New(t)
	newDescribedOffice(t, d, "Anagrafe", "")
	rep := importFile(t, d, "catalogo.csv", importCSV)
	if rep.Created != 4 || rep.Updated != 0 || len(rep.Rejected) != 4 {
		t.Fatalf("report = %+v", rep)
	}
	want := []catfile.Rejection{
		{Row: "line 3", Field: "summary", Reason: "must not be empty"},
		{Row: "line 4", Field: "office", Reason: `no office is named "Ufficio che non esiste"`},
		{Row: "line 6", Field: "maxDays", Reason: `must be a whole number, not "molti"`},
		{Row: "line 8", Field: "date", Reason: "must not be empty"},
	}
	for i, w := range want {
		if rep.Rejected[i] != w {
			t.Errorf("rejection %d = %+v, want %+v", i, rep.Rejected[i], w)
		}
	}
	svc, err := db.NewCatalogueService(d).Service(anonymousCtx(), "carta-identita")
	if err != nil || len(svc.Channels) != 2 || svc.Topics[1] != "anagrafe" || svc.Status != sportello.CataloguePublished {
		t.Fatalf("imported service = %+v, %v", svc, err)
	}
	if _, err := db.NewCatalogueService(d).Service(anonymousCtx(), "bozza"); sportello.ErrorCode(err) != sportello.CodeNotFound {
		t.Fatalf("a DRAFT row was published: %v", err)
	}
}

func TestImportingTwiceChangesNothing(t *testing.T) {
	d := dbtest.New(t)
	newDescribedOffice(t, d, "Anagrafe", "")
	importFile(t, d, "catalogo.csv", importCSV)
	var before string
	if err := d.Get(&before, `SELECT string_agg(id || updated_at::text, ',' ORDER BY id) FROM
		(SELECT id, updated_at FROM services UNION ALL SELECT id, updated_at FROM procedures UNION ALL SELECT id, updated_at FROM acts) x`); err != nil {
		t.Fatal(err)
	}
	rep := importFile(t, d, "catalogo.csv", importCSV)
	if rep.Created != 0 || rep.Updated != 0 || rep.Unchanged != 4 {
		t.Fatalf("second import = %+v", rep)
	}
	var after string
	d.Get(&after, `SELECT string_agg(id || updated_at::text, ',' ORDER BY id) FROM
		(SELECT id, updated_at FROM services UNION ALL SELECT id, updated_at FROM procedures UNION ALL SELECT id, updated_at FROM acts) x`)
	if before != after {
		t.Fatal("the second import changed rows")
	}
	changed := strings.Replace(importCSV, "Rilascio della CIE,Anagrafe", "Rilascio e rinnovo della CIE,Anagrafe", 1)
	if rep := importFile(t, d, "catalogo.csv", changed); rep.Updated != 1 || rep.Unchanged != 3 {
		t.Fatalf("changed import = %+v", rep)
	}
}

func TestExportImportsBackUnchanged(t *testing.T) {
	d := dbtest.New(t)
	if err := db.SeedDemo(editorCtx(), d); err != nil {
		t.Fatal(err)
	}
	c, err := db.NewCatalogueService(d).ExportCatalogue(editorCtx())
	if err != nil {
		t.Fatal(err)
	}
	offices, _ := db.NewOfficeService(d).Offices(editorCtx())
	names := map[string]string{}
	for _, o := range offices {
		names[o.ID] = o.Name
	}
	for _, name := range []string{"catalogo.json", "catalogo.csv"} {
		var buf bytes.Buffer
		if err := catfile.Write(name, &buf, c, names); err != nil {
			t.Fatal(err)
		}
		rep := importFile(t, d, name, buf.String())
		total := len(c.Services) + len(c.Procedures) + len(c.Acts)
		if rep.Unchanged != total || len(rep.Rejected) != 0 {
			t.Fatalf("%s: re-import of %d entries = %+v", name, total, rep)
		}
	}
	if _, err := db.NewCatalogueService(d).ExportCatalogue(citizenCtx("c1")); sportello.ErrorCode(err) != sportello.CodeForbidden {
		t.Fatalf("a citizen exported: %v", err)
	}
}

func TestDemoCatalogueSeedsCompletely(t *testing.T) {
	d := dbtest.New(t)
	if err := db.SeedDemo(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	var services, procedures, acts int
	if err := d.Get(&services, `SELECT count(*) FROM services`); err != nil {
		t.Fatal(err)
	}
	d.Get(&procedures, `SELECT count(*) FROM procedures`)
	d.Get(&acts, `SELECT count(*) FROM acts`)
	if services < 30 || procedures < 15 || acts < 20 {
		t.Fatalf("seeded %d services, %d procedures, %d acts", services, procedures, acts)
	}
	// Seeding again changes nothing.
	if err := db.SeedDemo(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	var again int
	d.Get(&again, `SELECT count(*) FROM services`)
	if again != services {
		t.Fatalf("second seed: %d services, was %d", again, services)
	}
}

package db_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/db/dbtest"
)

// searchFixture is a small catalogue to search in.
type searchFixture struct {
	d       *db.DB
	count   *dbtest.Counter // the statements the database runs
	search  *db.SearchService
	cie     *sportello.Service
	certs   *sportello.Service
	draft   *sportello.Service
	resid   *sportello.Procedure
	office  string
	tariAct *sportello.Act
}

func newSearchFixture(t *testing.T) *searchFixture {
	t.Helper()
	d, count := dbtest.NewCounting(t)
	s := db.NewCatalogueService(d)
	ctx := editorCtx()
	f := &searchFixture{d: d, count: count, search: db.NewSearchService(d)}
	f.office = newDescribedOffice(t, d, "Anagrafe e Stato Civile", "Residenza, certificati e documenti d'identità.")
	published := sportello.CataloguePublished
	f.cie = newService(t, s, sportello.ServiceInput{Title: "Carta d'identità elettronica", Summary: "Rilascio e rinnovo della CIE.",
		Description: "Si prenota online; servono una fototessera e il codice fiscale.", OfficeID: f.office, Status: published})
	f.certs = newService(t, s, sportello.ServiceInput{Title: "Certificato di residenza", Summary: "Il certificato anagrafico che attesta la residenza.",
		Status: published})
	f.draft = newService(t, s, sportello.ServiceInput{Title: "Certificato storico di famiglia", Summary: "In preparazione."})
	newService(t, s, sportello.ServiceInput{Title: "Iscrizione alla mensa scolastica", Summary: "Per i figli alle scuole primarie.",
		Description: "Serve il certificato ISEE in corso di validità.", Status: published})
	newService(t, s, sportello.ServiceInput{Title: "Pulizia strade", Summary: "Contiene <script>alert('x')</script> & altro: certificati & co.",
		Status: published})
	var err error
	f.resid, err = s.CreateProcedure(ctx, sportello.ProcedureInput{Name: "Iscrizione anagrafica per cambio di residenza",
		LegalBasis: "DPR 223/1989", OfficeID: f.office, MaxDays: 45, SilentConsent: true, Status: published})
	if err != nil {
		t.Fatal(err)
	}
	date := sportello.Date{Year: 2026, Month: 11, Day: 10}
	f.tariAct, err = s.CreateAct(ctx, sportello.ActInput{Type: sportello.ActCouncilResolution, Number: 45, Date: date,
		Title: "Approvazione delle tariffe TARI", PublishedFrom: &date, Status: published})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *searchFixture) find(t *testing.T, query string, types ...sportello.SearchType) []*sportello.SearchHit {
	t.Helper()
	hits, err := f.search.Search(anonymousCtx(), sportello.SearchInput{Query: query, Types: types})
	if err != nil {
		t.Fatalf("search %q: %v", query, err)
	}
	return hits
}

// statements returns the statements that search runs.
func (f *searchFixture) statements(t *testing.T, search func()) int64 {
	t.Helper()
	f.count.Reset()
	search()
	return f.count.Count()
}

func hitIDs(hits []*sportello.SearchHit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = string(h.Type) + ":" + h.Title
	}
	return out
}

func TestSearchIgnoresAccentsAndInflections(t *testing.T) {
	f := newSearchFixture(t)
	for _, tc := range []struct {
		query, want string
	}{
		{"carta identita", "Carta d'identità elettronica"},
		{"Carta d'Identità", "Carta d'identità elettronica"},
		{"certificati", "Certificato di residenza"},
		{"residenze", "Iscrizione anagrafica per cambio di residenza"},
		{"tariffa tari", "Approvazione delle tariffe TARI"},
		{"delibera", "Approvazione delle tariffe TARI"},
		{"stato civile", "Anagrafe e Stato Civile"},
		{"mense scolastiche", "Iscrizione alla mensa scolastica"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			hits := f.find(t, tc.query)
			for _, h := range hits {
				if h.Title == tc.want {
					return
				}
			}
			t.Fatalf("%q found %v, not %q", tc.query, hitIDs(hits), tc.want)
		})
	}
}

func TestSearchRanksTitlesAboveText(t *testing.T) {
	f := newSearchFixture(t)
	if hits := f.find(t, "carta identita"); len(hits) == 0 || hits[0].ID != f.cie.ID {
		t.Fatalf("carta identita: %v", hitIDs(hits))
	}
	// "certificato" is in the title of one service and in the text of the mensa service.
	hits := f.find(t, "certificato", sportello.SearchTypeService)
	if len(hits) < 2 || hits[0].ID != f.certs.ID {
		t.Fatalf("hits = %v", hitIDs(hits))
	}
	for i := 1; i < len(hits); i++ {
		if hits[i].Score > hits[0].Score {
			t.Fatalf("not ranked: %v", hitIDs(hits))
		}
	}
}

func TestSearchFiltersByTypeAndShowsOnlyWhatTheCallerMaySee(t *testing.T) {
	f := newSearchFixture(t)
	for _, h := range f.find(t, "residenza", sportello.SearchTypeProcedure, sportello.SearchTypeOffice) {
		if h.Type != sportello.SearchTypeProcedure && h.Type != sportello.SearchTypeOffice {
			t.Fatalf("type filter let through %v", h.Type)
		}
	}
	for _, h := range f.find(t, "certificato storico") {
		if h.ID == f.draft.ID {
			t.Fatal("the public found a draft")
		}
	}
	hits, err := f.search.Search(editorCtx(), sportello.SearchInput{Query: "certificato storico"})
	if err != nil || len(hits) == 0 || hits[0].ID != f.draft.ID {
		t.Fatalf("staff search = %v, %v", hitIDs(hits), err)
	}
}

func TestSearchSnippetsAreEscapedHTMLWithMarks(t *testing.T) {
	f := newSearchFixture(t)
	hits := f.find(t, "certificati", sportello.SearchTypeService)
	var snippet string
	for _, h := range hits {
		if h.Title == "Pulizia strade" {
			snippet = h.Snippet
		}
	}
	if snippet == "" {
		t.Fatalf("hits = %v", hitIDs(hits))
	}
	if strings.Contains(snippet, "<script") || !strings.Contains(snippet, "&amp;") || !strings.Contains(snippet, "<mark>certificati</mark>") {
		t.Fatalf("snippet = %q", snippet)
	}
	if strings.Count(snippet, "<") != strings.Count(snippet, "<mark>")+strings.Count(snippet, "</mark>") {
		t.Fatalf("unescaped markup in %q", snippet)
	}
	cie := f.find(t, "fototessera")
	if len(cie) == 0 || !strings.Contains(cie[0].Snippet, "<mark>fototessera</mark>") {
		t.Fatalf("hits = %v", cie)
	}
}

func TestSearchRejectsBadInput(t *testing.T) {
	f := newSearchFixture(t)
	for _, tc := range []struct {
		in    sportello.SearchInput
		field string
	}{
		{sportello.SearchInput{Query: "  "}, "query"},
		{sportello.SearchInput{Query: strings.Repeat("a", 201)}, "query"},
		{sportello.SearchInput{Query: "tari", First: 51}, "first"},
		{sportello.SearchInput{Query: "tari", Types: []sportello.SearchType{"PAGE"}}, "types"},
	} {
		_, err := f.search.Search(anonymousCtx(), tc.in)
		wantCode(t, err, sportello.CodeBadUserInput)
		if err.(*sportello.Error).Field != tc.field {
			t.Fatalf("%+v: field %q", tc.in, err.(*sportello.Error).Field)
		}
	}
	if hits := f.find(t, "il la di"); len(hits) != 0 {
		t.Fatalf("stop words found %v", hitIDs(hits))
	}
}

func TestSearchIndexFollowsUpdatesAndStatus(t *testing.T) {
	d := dbtest.New(t)
	s := db.NewCatalogueService(d)
	search := db.NewSearchService(d)
	svc := newService(t, s, sportello.ServiceInput{Title: "Permesso ZTL", Summary: "Accesso al centro storico.", Status: sportello.CataloguePublished})
	count := func(q string) int {
		hits, err := search.Search(anonymousCtx(), sportello.SearchInput{Query: q})
		if err != nil {
			t.Fatal(err)
		}
		return len(hits)
	}
	if count("ztl") != 1 {
		t.Fatal("new service not found")
	}
	if _, err := s.UpdateService(editorCtx(), svc.ID, sportello.ServiceInput{Slug: svc.Slug, Title: "Permesso di transito",
		Summary: "Accesso al centro storico.", Status: sportello.CataloguePublished}); err != nil {
		t.Fatal(err)
	}
	if count("ztl") != 0 || count("transito") != 1 {
		t.Fatal("the index did not follow the update")
	}
	if _, err := s.SetServiceStatus(editorCtx(), svc.ID, sportello.CatalogueRetired); err != nil {
		t.Fatal(err)
	}
	if count("transito") != 0 {
		t.Fatal("a retired service is still found")
	}
}

// The search index is read without row-level security (migration 0017), so the search's own
// condition on the tenant is what keeps each municipality to its documents, drafts included.
func TestSearchFindsOnlyTheCallersMunicipality(t *testing.T) {
	d := dbtest.New(t)
	newTenant(t, d)
	s := db.NewCatalogueService(d)
	search := db.NewSearchService(d)
	other := managerCtx(otherTenant)
	for _, in := range []sportello.ServiceInput{
		{Title: "Permesso ZTL per residenti", Summary: "Accesso alla zona a traffico limitato.", Status: sportello.CataloguePublished},
		{Title: "Permesso ZTL per artigiani", Summary: "In preparazione."},
	} {
		if _, err := s.CreateService(other, in); err != nil {
			t.Fatal(err)
		}
	}
	for name, ctx := range map[string]context.Context{
		"the public": anonymousCtx(), "an editor": editorCtx(), "a manager": managerCtx(sportello.DefaultTenantID),
	} {
		hits, err := search.Search(ctx, sportello.SearchInput{Query: "permesso ztl"})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != 0 {
			t.Errorf("%s found the other municipality's %v", name, hitIDs(hits))
		}
	}
	hits, err := search.Search(other, sportello.SearchInput{Query: "permesso ztl"})
	if err != nil || len(hits) != 2 {
		t.Fatalf("the other municipality's staff found %v, %v", hitIDs(hits), err)
	}
}

// Writing the index stays confined to the tenant: the triggers that keep it run in the scope
// of the change, and cannot add, change or remove another tenant's documents.
func TestTheSearchIndexIsWrittenOnlyWithinTheTenant(t *testing.T) {
	d := dbtest.New(t)
	newTenant(t, d)
	newOffice(t, d, otherTenant, "Ufficio dell'altro comune")
	ctx := managerCtx(sportello.DefaultTenantID)

	_, err := d.ExecContext(ctx, `INSERT INTO search_documents (tenant_id, type, ref_id, title, summary, body, status)
		VALUES ($1, 'SERVICE', gen_random_uuid(), 'Intruso', '', '', 'PUBLISHED')`, otherTenant)
	if pe, ok := errors.AsType[*pq.Error](err); !ok || pe.Code != "42501" {
		t.Fatalf("insert under another tenant: %v, want a row-level security violation", err)
	}
	for _, stmt := range []string{
		`UPDATE search_documents SET title = 'Cambiato' WHERE tenant_id = $1`,
		`DELETE FROM search_documents WHERE tenant_id = $1`,
	} {
		res, err := d.ExecContext(ctx, stmt, otherTenant)
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := res.RowsAffected(); n != 0 {
			t.Errorf("%s: %d of the other tenant's documents", stmt, n)
		}
	}
	var titles []string
	if err := d.Select(&titles, `SELECT title FROM search_documents WHERE tenant_id = $1`, otherTenant); err != nil {
		t.Fatal(err)
	}
	if len(titles) != 1 || titles[0] != "Ufficio dell'altro comune" {
		t.Fatalf("the other tenant's documents are now %q", titles)
	}
}

// A search that was made before costs one statement, which reads the version of the index and
// parses the words, and finds what the search found the first time, which is what a search
// without the cache finds.
func TestARepeatedSearchIsAnsweredFromMemoryWithTheSameHits(t *testing.T) {
	f := newSearchFixture(t)
	first := f.find(t, "carta identita")
	if len(first) == 0 {
		t.Fatal("nothing found")
	}
	var again []*sportello.SearchHit
	if n := f.statements(t, func() { again = f.find(t, "carta identita") }); n != 1 {
		t.Errorf("a repeated search ran %d statements, want 1", n)
	}
	if !reflect.DeepEqual(again, first) {
		t.Fatalf("repeated: %+v, first: %+v", again, first)
	}
	// Spellings that differ in case, accents and spaces are the same search.
	if n := f.statements(t, func() { again = f.find(t, "  CARTA   Identità ") }); n != 1 || !reflect.DeepEqual(again, first) {
		t.Errorf("another spelling ran %d statements and found %+v", n, again)
	}
	// What a caller does to its hits does not reach the others.
	title := first[0].Title
	again[0].Title = "Cambiato"
	if hits := f.find(t, "carta identita"); hits[0].Title != title {
		t.Fatalf("the cache kept a caller's change: %q", hits[0].Title)
	}

	uncached := db.NewSearchService(f.d)
	for _, in := range []sportello.SearchInput{
		{Query: "certificato"},
		{Query: "certificati", Types: []sportello.SearchType{sportello.SearchTypeService, sportello.SearchTypeProcedure}},
		{Query: "certificati", Types: []sportello.SearchType{sportello.SearchTypeProcedure, sportello.SearchTypeService}},
		{Query: "certificati", Types: []sportello.SearchType{sportello.SearchTypeService}},
		{Query: "certificati", First: 1},
		{Query: "residenza"},
	} {
		for i := range 2 {
			cached, err := f.search.Search(anonymousCtx(), in)
			if err != nil {
				t.Fatal(err)
			}
			want, err := uncached.Search(anonymousCtx(), in)
			if err != nil {
				t.Fatal(err)
			}
			uncached = db.NewSearchService(f.d)
			if !reflect.DeepEqual(cached, want) {
				t.Errorf("%+v, search %d: %v, without the cache %v", in, i+1, hitIDs(cached), hitIDs(want))
			}
		}
	}
}

func TestTheSearchCacheIsBoundedAndDropsTheLeastRecentlyUsed(t *testing.T) {
	f := newSearchFixture(t)
	word := func(i int) string { return fmt.Sprintf("parola%d", i) }
	for i := range db.SearchCacheEntries {
		f.find(t, word(i))
	}
	f.find(t, word(0))
	f.find(t, word(db.SearchCacheEntries)) // one more than the cache holds
	for _, tc := range []struct {
		i    int
		want int64
	}{
		{0, 1},                     // used again before the cache was full: kept
		{2, 1},                     // kept
		{db.SearchCacheEntries, 1}, // the newest
		{1, 2},                     // the least recently used: dropped, so searched again
	} {
		if n := f.statements(t, func() { f.find(t, word(tc.i)) }); n != tc.want {
			t.Errorf("search %d ran %d statements, want %d", tc.i, n, tc.want)
		}
	}
}

// Every change of the index raises its version in the change's transaction, so the next search
// finds it, whatever wrote the change; the public's searches also follow the calendar.
func TestASearchFindsEveryChangeOfTheCatalogueAtOnce(t *testing.T) {
	town := newContentTown(t)
	cat := db.NewCatalogueService(town.d)
	search := db.NewSearchService(town.d)
	find := func(ctx context.Context, query string) []string {
		t.Helper()
		hits, err := search.Search(ctx, sportello.SearchInput{Query: query})
		if err != nil {
			t.Fatal(err)
		}
		titles := make([]string, len(hits))
		for i, h := range hits {
			titles[i] = h.Title
		}
		return titles
	}
	want := func(ctx context.Context, query string, titles ...string) {
		t.Helper()
		// Twice: the first search may have been kept, the second surely comes from the cache.
		for range 2 {
			if got := find(ctx, query); !slices.Equal(got, titles) {
				t.Fatalf("%q found %q, want %q", query, got, titles)
			}
		}
	}

	svc := newService(t, cat, sportello.ServiceInput{Title: "Contrassegno per disabili", Summary: "Il permesso di sosta."})
	want(anonymousCtx(), "contrassegno")
	if _, err := cat.SetServiceStatus(editorCtx(), svc.ID, sportello.CataloguePublished); err != nil {
		t.Fatal(err)
	}
	want(anonymousCtx(), "contrassegno", "Contrassegno per disabili")
	if _, err := cat.SetServiceStatus(editorCtx(), svc.ID, sportello.CatalogueRetired); err != nil {
		t.Fatal(err)
	}
	want(anonymousCtx(), "contrassegno")

	news := town.create(t, alice, sportello.NewContentInput{Type: sportello.ContentNews, ContentInput: sportello.ContentInput{
		Title: "Nuovo calendario della raccolta", Body: "La raccolta differenziata cambia giorno."}})
	want(bruno, "differenziata", "Nuovo calendario della raccolta")
	if _, err := town.s.UpdateContent(alice, news.ID, sportello.ContentInput{Slug: news.Slug,
		Title: "Calendario della raccolta 2027", Body: "La raccolta differenziata cambia giorno."}); err != nil {
		t.Fatal(err)
	}
	want(bruno, "differenziata", "Calendario della raccolta 2027")
	want(anonymousCtx(), "differenziata")
	town.publish(t, news.ID)
	want(anonymousCtx(), "differenziata", "Calendario della raccolta 2027")

	tomorrow := sportello.DateOf(town.now().AddDate(0, 0, 1))
	if _, err := cat.CreateAct(editorCtx(), sportello.ActInput{Type: sportello.ActOrdinance, Number: 12, Date: tomorrow,
		Title: "Chiusura del mercato settimanale", PublishedFrom: &tomorrow, Status: sportello.CataloguePublished}); err != nil {
		t.Fatal(err)
	}
	want(anonymousCtx(), "mercato")
	town.set(town.now().AddDate(0, 0, 1))
	want(anonymousCtx(), "mercato", "Chiusura del mercato settimanale")
}

// Each instance keeps its own hits, and reads the version of the index that every instance's
// changes raise.
func TestSearchInstancesSeeEachOthersChanges(t *testing.T) {
	url := dbtest.NewURL(t)
	type instance struct {
		cat    *db.CatalogueService
		search *db.SearchService
	}
	var instances [2]instance
	for i := range instances {
		d, _ := dbtest.OpenCounting(t, url)
		instances[i] = instance{cat: db.NewCatalogueService(d), search: db.NewSearchService(d)}
	}
	titles := func(in instance) []string {
		t.Helper()
		var out []string
		for range 2 {
			hits, err := in.search.Search(anonymousCtx(), sportello.SearchInput{Query: "centro storico"})
			if err != nil {
				t.Fatal(err)
			}
			out = nil
			for _, h := range hits {
				out = append(out, h.Title)
			}
		}
		return out
	}
	wantTitles := func(step string, want ...string) {
		t.Helper()
		for i, in := range instances {
			if got := titles(in); !slices.Equal(got, want) {
				t.Fatalf("%s: instance %d found %q, want %q", step, i+1, got, want)
			}
		}
	}

	svc, err := instances[0].cat.CreateService(editorCtx(), sportello.ServiceInput{Title: "Permesso ZTL",
		Summary: "Accesso al centro storico.", Status: sportello.CataloguePublished})
	if err != nil {
		t.Fatal(err)
	}
	wantTitles("created on the first", "Permesso ZTL")
	if _, err := instances[1].cat.UpdateService(editorCtx(), svc.ID, sportello.ServiceInput{Slug: svc.Slug,
		Title: "Permesso di transito", Summary: "Accesso al centro storico.", Status: sportello.CataloguePublished}); err != nil {
		t.Fatal(err)
	}
	wantTitles("renamed on the second", "Permesso di transito")
	if _, err := instances[0].cat.SetServiceStatus(editorCtx(), svc.ID, sportello.CatalogueRetired); err != nil {
		t.Fatal(err)
	}
	wantTitles("retired on the first")
}

package db_test

import (
	"context"
	"strings"
	"testing"
	"time"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/db/dbtest"
)

func roleCtx(role sportello.Role, subject string) context.Context {
	return sportello.WithUser(context.Background(), &sportello.User{
		TenantID: sportello.DefaultTenantID, Subject: subject, Roles: []sportello.Role{role},
	})
}

func editorCtx() context.Context { return roleCtx(sportello.RoleEditor, "editor-1") }

// newOffice adds an office to the default tenant and returns its id.
func newDescribedOffice(t *testing.T, d *db.DB, name, description string) string {
	t.Helper()
	var id string
	if err := d.Get(&id, `INSERT INTO offices (tenant_id, name, description) VALUES ($1, $2, $3) RETURNING id`,
		sportello.DefaultTenantID, name, description); err != nil {
		t.Fatal(err)
	}
	return id
}

func newService(t *testing.T, s *db.CatalogueService, in sportello.ServiceInput) *sportello.Service {
	t.Helper()
	svc, err := s.CreateService(editorCtx(), in)
	if err != nil {
		t.Fatalf("create service %q: %v", in.Title, err)
	}
	return svc
}

func TestServiceLifecycleFromDraftToRetired(t *testing.T) {
	d := dbtest.New(t)
	s := db.NewCatalogueService(d)
	office := newDescribedOffice(t, d, "Anagrafe", "")
	svc := newService(t, s, sportello.ServiceInput{Title: "Carta d'identità elettronica", Summary: "Rilascio della CIE.",
		OfficeID: office, Channels: []sportello.Channel{sportello.ChannelWeb, sportello.ChannelCounter, sportello.ChannelWeb},
		Topics: []string{"Documenti", " documenti "}, Requirements: []string{"Fototessera", " "}})
	if svc.Slug != "carta-d-identita-elettronica" || svc.Status != sportello.CatalogueDraft {
		t.Fatalf("created %+v", svc)
	}
	if len(svc.Channels) != 2 || len(svc.Topics) != 1 || svc.Topics[0] != "documenti" || len(svc.Requirements) != 1 {
		t.Fatalf("lists not normalized: %+v", svc)
	}
	anon := anonymousCtx()
	if _, err := s.Service(anon, svc.Slug); sportello.ErrorCode(err) != sportello.CodeNotFound {
		t.Fatalf("anonymous read a draft: %v", err)
	}
	if _, err := s.Service(citizenCtx("c1"), svc.Slug); sportello.ErrorCode(err) != sportello.CodeNotFound {
		t.Fatalf("citizen read a draft: %v", err)
	}
	if _, err := s.Service(operatorCtx("op"), svc.Slug); err != nil {
		t.Fatalf("staff cannot read a draft: %v", err)
	}
	if _, err := s.SetServiceStatus(editorCtx(), svc.ID, sportello.CataloguePublished); err != nil {
		t.Fatal(err)
	}
	got, err := s.Service(anon, svc.Slug)
	if err != nil || got.ID != svc.ID || got.OfficeID != office {
		t.Fatalf("published service = %+v, %v", got, err)
	}
	upd := sportello.ServiceInput{Slug: svc.Slug, Title: "Carta d'identità elettronica (CIE)", Summary: "Rilascio e rinnovo.",
		Status: sportello.CataloguePublished}
	if got, err = s.UpdateService(editorCtx(), svc.ID, upd); err != nil || got.Title != upd.Title || got.OfficeID != "" {
		t.Fatalf("update = %+v, %v", got, err)
	}
	if _, err := s.SetServiceStatus(editorCtx(), svc.ID, sportello.CatalogueRetired); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Service(anon, svc.Slug); sportello.ErrorCode(err) != sportello.CodeNotFound {
		t.Fatalf("anonymous read a retired service: %v", err)
	}
}

func TestOnlyCatalogueStaffWrite(t *testing.T) {
	d := dbtest.New(t)
	s := db.NewCatalogueService(d)
	in := sportello.ServiceInput{Title: "TARI", Summary: "Tassa sui rifiuti."}
	for _, tc := range []struct {
		name string
		ctx  context.Context
		code sportello.Code
	}{
		{"anonymous", anonymousCtx(), sportello.CodeUnauthenticated},
		{"citizen", citizenCtx("c1"), sportello.CodeForbidden},
		{"youth desk", roleCtx(sportello.RoleYouthDesk, "y1"), sportello.CodeForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreateService(tc.ctx, in)
			wantCode(t, err, tc.code)
		})
	}
	for _, role := range []sportello.Role{sportello.RoleEditor, sportello.RoleOperator, sportello.RoleManager, sportello.RoleAdmin} {
		t.Run(string(role), func(t *testing.T) {
			in := in
			in.Slug = "tari-" + strings.ToLower(string(role))
			if _, err := s.CreateService(roleCtx(role, "u-"+string(role)), in); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestCatalogueValidationNamesTheFieldAndWritesNothing(t *testing.T) {
	d := dbtest.New(t)
	s := db.NewCatalogueService(d)
	office := newDescribedOffice(t, d, "Tributi", "")
	ctx := editorCtx()
	for _, tc := range []struct {
		name  string
		call  func() error
		code  sportello.Code
		field string
	}{
		{"service without title", func() error {
			_, err := s.CreateService(ctx, sportello.ServiceInput{Summary: "x"})
			return err
		}, sportello.CodeBadUserInput, "title"},
		{"service with a javascript link", func() error {
			_, err := s.CreateService(ctx, sportello.ServiceInput{Title: "A", Summary: "x", OnlineURL: "javascript:alert(1)"})
			return err
		}, sportello.CodeBadUserInput, "onlineUrl"},
		{"service with a bad slug", func() error {
			_, err := s.CreateService(ctx, sportello.ServiceInput{Title: "A", Summary: "x", Slug: "Non Valido"})
			return err
		}, sportello.CodeBadUserInput, "slug"},
		{"service of an unknown office", func() error {
			_, err := s.CreateService(ctx, sportello.ServiceInput{Title: "A", Summary: "x", OfficeID: "00000000-0000-0000-0000-00000000dead"})
			return err
		}, sportello.CodeNotFound, "officeId"},
		{"procedure without legal basis", func() error {
			_, err := s.CreateProcedure(ctx, sportello.ProcedureInput{Name: "Rimborso", OfficeID: office, MaxDays: 30})
			return err
		}, sportello.CodeBadUserInput, "legalBasis"},
		{"procedure of zero days", func() error {
			_, err := s.CreateProcedure(ctx, sportello.ProcedureInput{Name: "Rimborso", LegalBasis: "L. 296/2006", OfficeID: office})
			return err
		}, sportello.CodeBadUserInput, "maxDays"},
		{"act whose year is not its date's", func() error {
			_, err := s.CreateAct(ctx, sportello.ActInput{Type: sportello.ActOrdinance, Number: 1, Year: 2025,
				Date: sportello.Date{Year: 2026, Month: 1, Day: 2}, Title: "Ordinanza"})
			return err
		}, sportello.CodeBadUserInput, "year"},
		{"act published before its date", func() error {
			from := sportello.Date{Year: 2025, Month: 12, Day: 31}
			_, err := s.CreateAct(ctx, sportello.ActInput{Type: sportello.ActOrdinance, Number: 1,
				Date: sportello.Date{Year: 2026, Month: 1, Day: 2}, Title: "Ordinanza", PublishedFrom: &from})
			return err
		}, sportello.CodeBadUserInput, "publishedFrom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			wantCode(t, err, tc.code)
			if e := err.(*sportello.Error); e.Field != tc.field {
				t.Fatalf("field = %q, want %q", e.Field, tc.field)
			}
		})
	}
	var n int
	if err := d.Get(&n, `SELECT (SELECT count(*) FROM services) + (SELECT count(*) FROM procedures) + (SELECT count(*) FROM acts)`); err != nil || n != 0 {
		t.Fatalf("bad input wrote %d rows (%v)", n, err)
	}
}

func TestNaturalKeysConflict(t *testing.T) {
	d := dbtest.New(t)
	s := db.NewCatalogueService(d)
	office := newDescribedOffice(t, d, "URP", "")
	ctx := editorCtx()
	newService(t, s, sportello.ServiceInput{Title: "TARI", Summary: "x"})
	_, err := s.CreateService(ctx, sportello.ServiceInput{Title: "Tari", Summary: "y"})
	wantCode(t, err, sportello.CodeConflict)

	p := sportello.ProcedureInput{Name: "Accesso agli atti", LegalBasis: "L. 241/1990", OfficeID: office, MaxDays: 30}
	if _, err := s.CreateProcedure(ctx, p); err != nil {
		t.Fatal(err)
	}
	p.Name = "ACCESSO AGLI ATTI"
	_, err = s.CreateProcedure(ctx, p)
	wantCode(t, err, sportello.CodeConflict)

	a := sportello.ActInput{Type: sportello.ActDecree, Number: 3, Date: sportello.Date{Year: 2026, Month: 5, Day: 4}, Title: "Decreto"}
	if _, err := s.CreateAct(ctx, a); err != nil {
		t.Fatal(err)
	}
	_, err = s.CreateAct(ctx, a)
	wantCode(t, err, sportello.CodeConflict)
}

func TestActsReachThePublicOnTheFirstDayTheyArePublished(t *testing.T) {
	d := dbtest.New(t)
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, sportello.Rome)
	d.Now = func() time.Time { return now }
	s := db.NewCatalogueService(d)
	day := func(m time.Month, dd int) *sportello.Date {
		return &sportello.Date{Year: 2026, Month: m, Day: dd}
	}
	mk := func(n int, from, until *sportello.Date) *sportello.Act {
		a, err := s.CreateAct(editorCtx(), sportello.ActInput{Type: sportello.ActOrdinance, Number: n, Date: *day(11, 1),
			Title: "Ordinanza", PublishedFrom: from, PublishedUntil: until, Status: sportello.CataloguePublished})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	onBoard := mk(1, day(11, 20), day(11, 26))
	past := mk(2, day(11, 2), day(11, 17))
	future := mk(3, day(11, 27), day(12, 12))

	page, err := s.Acts(anonymousCtx(), sportello.ActFilter{}, sportello.Page{})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, a := range page.Acts {
		ids[a.ID] = true
	}
	if !ids[onBoard.ID] || !ids[past.ID] || ids[future.ID] {
		t.Fatalf("public acts = %v", ids)
	}
	if !onBoard.OnNoticeBoard(now) || past.OnNoticeBoard(now) {
		t.Fatal("notice board days are wrong")
	}
	yes := true
	page, err = s.Acts(anonymousCtx(), sportello.ActFilter{OnNoticeBoard: &yes}, sportello.Page{})
	if err != nil || len(page.Acts) != 1 || page.Acts[0].ID != onBoard.ID {
		t.Fatalf("on the notice board = %+v, %v", page, err)
	}
	if page, err = s.Acts(editorCtx(), sportello.ActFilter{}, sportello.Page{}); err != nil || len(page.Acts) != 3 {
		t.Fatalf("staff see %d acts, %v", len(page.Acts), err)
	}
}

func TestListsPageWithCursorsAndFilter(t *testing.T) {
	d := dbtest.New(t)
	s := db.NewCatalogueService(d)
	office := newDescribedOffice(t, d, "Anagrafe", "")
	for i, title := range []string{"Elenco A", "Elenco B", "Elenco C", "Elenco D", "Elenco E"} {
		in := sportello.ServiceInput{Title: title, Summary: "x", Status: sportello.CataloguePublished, Topics: []string{"anagrafe"}}
		if i%2 == 0 {
			in.OfficeID = office
		}
		newService(t, s, in)
	}
	newService(t, s, sportello.ServiceInput{Title: "Bozza", Summary: "x", Topics: []string{"anagrafe"}})

	var titles []string
	after := ""
	for {
		p, err := s.Services(anonymousCtx(), sportello.ServiceFilter{Topic: "Anagrafe"}, sportello.Page{First: 2, After: after})
		if err != nil {
			t.Fatal(err)
		}
		for _, svc := range p.Services {
			titles = append(titles, svc.Title)
		}
		if !p.HasNextPage {
			break
		}
		after = p.Cursors[len(p.Cursors)-1]
	}
	if len(titles) != 5 || titles[0] != "Elenco A" || titles[4] != "Elenco E" {
		t.Fatalf("pages = %v", titles)
	}
	p, err := s.Services(anonymousCtx(), sportello.ServiceFilter{OfficeID: office}, sportello.Page{})
	if err != nil || len(p.Services) != 3 {
		t.Fatalf("by office = %d, %v", len(p.Services), err)
	}
	_, err = s.Services(anonymousCtx(), sportello.ServiceFilter{Statuses: []sportello.CatalogueStatus{sportello.CatalogueDraft}}, sportello.Page{})
	wantCode(t, err, sportello.CodeBadUserInput)
	p, err = s.Services(editorCtx(), sportello.ServiceFilter{Statuses: []sportello.CatalogueStatus{sportello.CatalogueDraft}}, sportello.Page{})
	if err != nil || len(p.Services) != 1 || p.Services[0].Title != "Bozza" {
		t.Fatalf("drafts = %+v, %v", p, err)
	}
	_, err = s.Services(anonymousCtx(), sportello.ServiceFilter{}, sportello.Page{First: 101})
	wantCode(t, err, sportello.CodeBadUserInput)
	_, err = s.Services(anonymousCtx(), sportello.ServiceFilter{}, sportello.Page{After: "not-a-cursor"})
	wantCode(t, err, sportello.CodeBadUserInput)
}

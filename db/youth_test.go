package db_test

import (
	"context"
	"slices"
	"testing"
	"time"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/db/dbtest"
)

func youthCtx() context.Context { return roleCtx(sportello.RoleYouthDesk, "youth-desk-1") }

// youthClock fixes the services' clock on a Tuesday in Rome.
var youthClock = time.Date(2026, 11, 10, 10, 0, 0, 0, sportello.Rome)

func newYouthDB(t *testing.T) (*db.DB, *db.YouthService) {
	t.Helper()
	d := dbtest.New(t)
	d.Now = func() time.Time { return youthClock }
	return d, db.NewYouthService(d)
}

func dayFromClock(days int) *sportello.Date {
	d := sportello.DateOf(youthClock).AddDays(days)
	return &d
}

// publish creates and publishes an opportunity.
func publish(t *testing.T, s *db.YouthService, in sportello.OpportunityInput) *sportello.Opportunity {
	t.Helper()
	o, err := s.CreateOpportunity(youthCtx(), in)
	if err != nil {
		t.Fatalf("create %q: %v", in.Title, err)
	}
	if o, err = s.PublishOpportunity(youthCtx(), o.ID); err != nil {
		t.Fatalf("publish %q: %v", in.Title, err)
	}
	return o
}

func titles(p *sportello.OpportunityPage) []string {
	out := make([]string, len(p.Opportunities))
	for i, o := range p.Opportunities {
		out[i] = o.Title
	}
	return out
}

// Milan's Duomo and a point 3 km away, and Rome.
var (
	milan     = &sportello.Location{Latitude: 45.4642, Longitude: 9.1900}
	nearMilan = &sportello.Location{Latitude: 45.4850, Longitude: 9.2200}
	rome      = &sportello.Location{Latitude: 41.9028, Longitude: 12.4964}
)

func TestOpportunitySearchFiltersAndOrders(t *testing.T) {
	_, s := newYouthDB(t)
	remote := true
	publish(t, s, sportello.OpportunityInput{Category: sportello.CategoryVolunteering, Title: "Volontariato europeo in Spagna",
		Description: "Un anno di attività con i giovani di Barcellona, in parte da remoto.", Country: "ES", Languages: []string{"es", "en"},
		MinAge: 18, MaxAge: 30, Deadline: dayFromClock(20), Topics: []string{"corpo europeo di solidarietà"}})
	publish(t, s, sportello.OpportunityInput{Category: sportello.CategoryInternship, Title: "Tirocinio in comunicazione",
		Description: "Sei mesi in un'agenzia di Milano.", Country: "IT", Municipality: "Milano", Location: nearMilan,
		Languages: []string{"it"}, MinAge: 18, MaxAge: 29, Deadline: dayFromClock(2)})
	publish(t, s, sportello.OpportunityInput{Category: sportello.CategoryJob, Title: "Sviluppatore junior da remoto",
		Description: "Lavoro per una startup, attività di sviluppo web.", Country: "IT", Remote: true, Languages: []string{"en"},
		Deadline: dayFromClock(10)})
	publish(t, s, sportello.OpportunityInput{Category: sportello.CategoryCallCompetition, Title: "Concorso per istruttori a Roma",
		Country: "IT", Location: rome, MinAge: 18})
	if _, err := s.CreateOpportunity(youthCtx(), sportello.OpportunityInput{Category: sportello.CategoryJob,
		Title: "Bozza di lavoro", Country: "IT"}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		f    sportello.OpportunityFilter
		want []string
	}{
		{"everything open, soonest deadline first, drafts never", sportello.OpportunityFilter{},
			[]string{"Tirocinio in comunicazione", "Sviluppatore junior da remoto", "Volontariato europeo in Spagna", "Concorso per istruttori a Roma"}},
		{"words without accents or inflections", sportello.OpportunityFilter{OpportunityCriteria: sportello.OpportunityCriteria{Text: "attivita giovane"}},
			[]string{"Volontariato europeo in Spagna"}},
		{"words rank the title first", sportello.OpportunityFilter{OpportunityCriteria: sportello.OpportunityCriteria{Text: "remoto"}},
			[]string{"Sviluppatore junior da remoto", "Volontariato europeo in Spagna"}},
		{"category", sportello.OpportunityFilter{OpportunityCriteria: sportello.OpportunityCriteria{
			Categories: []sportello.OpportunityCategory{sportello.CategoryJob, sportello.CategoryInternship}}},
			[]string{"Tirocinio in comunicazione", "Sviluppatore junior da remoto"}},
		{"country", sportello.OpportunityFilter{OpportunityCriteria: sportello.OpportunityCriteria{Country: "es"}},
			[]string{"Volontariato europeo in Spagna"}},
		{"near Milan", sportello.OpportunityFilter{OpportunityCriteria: sportello.OpportunityCriteria{
			Near: &sportello.Area{Latitude: milan.Latitude, Longitude: milan.Longitude, RadiusMeters: 5000}}},
			[]string{"Tirocinio in comunicazione"}},
		{"near Milan, too small a circle", sportello.OpportunityFilter{OpportunityCriteria: sportello.OpportunityCriteria{
			Near: &sportello.Area{Latitude: milan.Latitude, Longitude: milan.Longitude, RadiusMeters: 2000}}}, []string{}},
		{"remote", sportello.OpportunityFilter{OpportunityCriteria: sportello.OpportunityCriteria{Remote: &remote}},
			[]string{"Sviluppatore junior da remoto"}},
		{"age 30: the internship stops at 29", sportello.OpportunityFilter{OpportunityCriteria: sportello.OpportunityCriteria{Age: 30}},
			[]string{"Sviluppatore junior da remoto", "Volontariato europeo in Spagna", "Concorso per istruttori a Roma"}},
		{"age 16: only those without a minimum", sportello.OpportunityFilter{OpportunityCriteria: sportello.OpportunityCriteria{Age: 16}},
			[]string{"Sviluppatore junior da remoto"}},
		{"language", sportello.OpportunityFilter{OpportunityCriteria: sportello.OpportunityCriteria{Language: "EN"}},
			[]string{"Sviluppatore junior da remoto", "Volontariato europeo in Spagna"}},
		{"closing within 3 days", sportello.OpportunityFilter{ClosingWithinDays: 3}, []string{"Tirocinio in comunicazione"}},
		{"deadline window", sportello.OpportunityFilter{DeadlineFrom: dayFromClock(5), DeadlineTo: dayFromClock(20)},
			[]string{"Sviluppatore junior da remoto", "Volontariato europeo in Spagna"}},
		{"topic", sportello.OpportunityFilter{Topic: "Corpo europeo di solidarietà"}, []string{"Volontariato europeo in Spagna"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := s.Opportunities(anonymousCtx(), tt.f, sportello.Page{})
			if err != nil {
				t.Fatal(err)
			}
			if got := titles(p); !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}

	if _, err := s.Opportunities(anonymousCtx(), sportello.OpportunityFilter{Statuses: []sportello.OpportunityStatus{sportello.OpportunityDraft}},
		sportello.Page{}); sportello.ErrorCode(err) != sportello.CodeBadUserInput {
		t.Fatalf("the public filtered by status: %v", err)
	}
	staff, err := s.Opportunities(youthCtx(), sportello.OpportunityFilter{Statuses: []sportello.OpportunityStatus{sportello.OpportunityDraft}}, sportello.Page{})
	if err != nil || !slices.Equal(titles(staff), []string{"Bozza di lavoro"}) {
		t.Fatalf("the youth desk's drafts: %v, %v", staff, err)
	}
}

func TestOpportunityPagesFollowBothOrders(t *testing.T) {
	_, s := newYouthDB(t)
	for i, title := range []string{"Corso di inglese", "Corso di tedesco", "Corso di cucina", "Corso di vela", "Corso di inglese avanzato"} {
		in := sportello.OpportunityInput{Category: sportello.CategoryStudyTraining, Title: title, Description: "Un corso."}
		if i%2 == 0 {
			in.Deadline = dayFromClock(5 - i)
		}
		publish(t, s, in)
	}
	for _, f := range []sportello.OpportunityFilter{{}, {OpportunityCriteria: sportello.OpportunityCriteria{Text: "corso inglese"}},
		{OpportunityCriteria: sportello.OpportunityCriteria{Text: "corso"}}} {
		all, err := s.Opportunities(anonymousCtx(), f, sportello.Page{First: 100})
		if err != nil {
			t.Fatal(err)
		}
		var paged []string
		after := ""
		for {
			p, err := s.Opportunities(anonymousCtx(), f, sportello.Page{First: 2, After: after})
			if err != nil {
				t.Fatal(err)
			}
			paged = append(paged, titles(p)...)
			if !p.HasNextPage {
				break
			}
			after = p.Cursors[len(p.Cursors)-1]
		}
		if !slices.Equal(paged, titles(all)) || len(paged) == 0 {
			t.Fatalf("%q: pages %q, list %q", f.Text, paged, titles(all))
		}
	}
	if _, err := s.Opportunities(anonymousCtx(), sportello.OpportunityFilter{OpportunityCriteria: sportello.OpportunityCriteria{Text: "corso"}},
		sportello.Page{After: "bm90LWEtY3Vyc29y"}); sportello.ErrorCode(err) != sportello.CodeBadUserInput {
		t.Fatalf("a foreign cursor: %v", err)
	}
}

func TestOpportunityExpiresOnReadAndThenByTheJob(t *testing.T) {
	d, s := newYouthDB(t)
	o := publish(t, s, sportello.OpportunityInput{Category: sportello.CategoryEUCall, Title: "Bando Erasmus+ per scambi giovanili",
		Deadline: dayFromClock(1)})
	search := db.NewSearchService(d)
	found := func() int {
		hits, err := search.Search(anonymousCtx(), sportello.SearchInput{Query: "scambi giovanili",
			Types: []sportello.SearchType{sportello.SearchTypeOpportunity}})
		if err != nil {
			t.Fatal(err)
		}
		return len(hits)
	}
	if found() != 1 {
		t.Fatal("the global search does not find the published opportunity")
	}

	// Two days later, before the job has run.
	d.Now = func() time.Time { return youthClock.Add(48 * time.Hour) }
	p, err := s.Opportunities(anonymousCtx(), sportello.OpportunityFilter{}, sportello.Page{})
	if err != nil || len(p.Opportunities) != 0 {
		t.Fatalf("an expired opportunity is listed: %v %v", titles(p), err)
	}
	got, err := s.Opportunity(anonymousCtx(), o.ID)
	if err != nil || got.StatusAt(d.Now()) != sportello.OpportunityExpired {
		t.Fatalf("read %v, %v", got, err)
	}
	if found() != 0 {
		t.Fatal("the global search finds an expired opportunity")
	}
	if _, err := s.SaveOpportunity(citizenCtx("late"), o.ID); sportello.ErrorCode(err) != sportello.CodeNotFound {
		t.Fatalf("saved an expired opportunity: %v", err)
	}
	if _, err := s.WithdrawOpportunity(youthCtx(), o.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PublishOpportunity(youthCtx(), o.ID); sportello.ErrorCode(err) != sportello.CodeInvalidTransition {
		t.Fatalf("published past the deadline: %v", err)
	}

	fresh := publish(t, s, sportello.OpportunityInput{Category: sportello.CategoryEUCall, Title: "Bando in scadenza ieri",
		Deadline: dayFromClock(2)})
	d.Now = func() time.Time { return youthClock.Add(72 * time.Hour) }
	for _, want := range []int{1, 0} {
		n, err := s.ExpireOpportunities(context.Background())
		if err != nil || n != want {
			t.Fatalf("expired %d, want %d: %v", n, want, err)
		}
	}
	got, err = s.Opportunity(youthCtx(), fresh.ID)
	if err != nil || got.Status != sportello.OpportunityExpired {
		t.Fatalf("stored status %v, %v", got, err)
	}
}

// TestSavedSearchAlertsMatchWhatTheyMust saves one search per citizen and publishes one
// opportunity: exactly the citizens whose searches match it are alerted, once.
func TestSavedSearchAlertsMatchWhatTheyMust(t *testing.T) {
	d, s := newYouthDB(t)
	yes, no := true, false
	opportunity := sportello.OpportunityInput{Category: sportello.CategoryInternship, Title: "Tirocinio in un'agenzia di comunicazione",
		Description: "Sei mesi di attività nel marketing digitale.", Country: "IT", Municipality: "Milano", Location: nearMilan,
		Languages: []string{"it", "en"}, MinAge: 18, MaxAge: 29, Deadline: dayFromClock(30)}
	tests := []struct {
		name     string
		criteria sportello.OpportunityCriteria
		alerts   bool
		match    bool
	}{
		{"everything", sportello.OpportunityCriteria{}, true, true},
		{"words without accents", sportello.OpportunityCriteria{Text: "attivita marketing"}, true, true},
		{"inflected word", sportello.OpportunityCriteria{Text: "tirocini"}, true, true},
		{"a word it lacks", sportello.OpportunityCriteria{Text: "tirocinio cucina"}, true, false},
		{"its category among others", sportello.OpportunityCriteria{Categories: []sportello.OpportunityCategory{sportello.CategoryJob, sportello.CategoryInternship}}, true, true},
		{"another category", sportello.OpportunityCriteria{Categories: []sportello.OpportunityCategory{sportello.CategoryJob}}, true, false},
		{"its country", sportello.OpportunityCriteria{Country: "IT"}, true, true},
		{"another country", sportello.OpportunityCriteria{Country: "FR"}, true, false},
		{"not remote", sportello.OpportunityCriteria{Remote: &no}, true, true},
		{"remote only", sportello.OpportunityCriteria{Remote: &yes}, true, false},
		{"an age inside", sportello.OpportunityCriteria{Age: 29}, true, true},
		{"an age above", sportello.OpportunityCriteria{Age: 30}, true, false},
		{"an age below", sportello.OpportunityCriteria{Age: 17}, true, false},
		{"one of its languages", sportello.OpportunityCriteria{Language: "en"}, true, true},
		{"another language", sportello.OpportunityCriteria{Language: "de"}, true, false},
		{"near it", sportello.OpportunityCriteria{Near: &sportello.Area{Latitude: milan.Latitude, Longitude: milan.Longitude, RadiusMeters: 5000}}, true, true},
		{"far from it", sportello.OpportunityCriteria{Near: &sportello.Area{Latitude: rome.Latitude, Longitude: rome.Longitude, RadiusMeters: 50000}}, true, false},
		{"all of it at once", sportello.OpportunityCriteria{Text: "comunicazione", Categories: []sportello.OpportunityCategory{sportello.CategoryInternship},
			Country: "IT", Age: 22, Language: "it", Near: &sportello.Area{Latitude: milan.Latitude, Longitude: milan.Longitude, RadiusMeters: 10000}}, true, true},
		{"all but one", sportello.OpportunityCriteria{Text: "comunicazione", Country: "IT", Age: 22, Language: "fr"}, true, false},
		{"a match without alerts", sportello.OpportunityCriteria{}, false, false},
	}
	subjects := make([]string, len(tests))
	for i, tt := range tests {
		subjects[i] = "alert-" + tt.name
		if _, err := s.SaveSearch(citizenCtx(subjects[i]), sportello.SavedSearchInput{Name: tt.name, Criteria: tt.criteria, Alerts: tt.alerts}); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
	}
	// A second matching search of the same citizen still alerts them once.
	if _, err := s.SaveSearch(citizenCtx(subjects[0]), sportello.SavedSearchInput{Name: "di nuovo", Alerts: true}); err != nil {
		t.Fatal(err)
	}
	// A citizen who erased their account is not alerted, though their search matches.
	if _, err := s.SaveSearch(citizenCtx("alert-erased"), sportello.SavedSearchInput{Name: "tutto", Alerts: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(`UPDATE citizens SET erased_at = now() WHERE subject = 'alert-erased'`); err != nil {
		t.Fatal(err)
	}
	o := publish(t, s, opportunity)
	alerted := func(subject string) int {
		var n int
		if err := d.Get(&n, `SELECT count(*) FROM notifications n JOIN citizens c ON c.id = n.citizen_id
			WHERE c.subject = $1 AND n.kind = 'OPPORTUNITY_ALERT' AND n.subject_id = $2`, subject, o.ID); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i, tt := range tests {
		want := 0
		if tt.match {
			want = 1
		}
		if got := alerted(subjects[i]); got != want {
			t.Errorf("%s: %d alerts, want %d", tt.name, got, want)
		}
	}

	if got := alerted("alert-erased"); got != 0 {
		t.Errorf("an erased citizen got %d alerts", got)
	}

	// Withdrawn and published again, it alerts nobody twice.
	if _, err := s.WithdrawOpportunity(youthCtx(), o.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PublishOpportunity(youthCtx(), o.ID); err != nil {
		t.Fatal(err)
	}
	if got := alerted(subjects[0]); got != 1 {
		t.Fatalf("published twice, alerted %d times", got)
	}
}

func TestSavedSearchesBelongToTheirCitizen(t *testing.T) {
	_, s := newYouthDB(t)
	mine, err := s.SaveSearch(citizenCtx("anna"), sportello.SavedSearchInput{Name: " Lavoro a Milano ", Alerts: true,
		Criteria: sportello.OpportunityCriteria{Text: "lavoro", Country: "it"}})
	if err != nil || mine.Name != "Lavoro a Milano" || mine.Criteria.Country != "IT" {
		t.Fatalf("saved %+v, %v", mine, err)
	}
	if _, err := s.SaveSearch(citizenCtx("anna"), sportello.SavedSearchInput{Name: ""}); sportello.ErrorCode(err) != sportello.CodeBadUserInput {
		t.Fatalf("saved a search without a name: %v", err)
	}
	if _, err := s.SaveSearch(anonymousCtx(), sportello.SavedSearchInput{Name: "x"}); sportello.ErrorCode(err) != sportello.CodeUnauthenticated {
		t.Fatalf("anonymous: %v", err)
	}
	if err := s.DeleteSavedSearch(citizenCtx("bruno"), mine.ID); sportello.ErrorCode(err) != sportello.CodeNotFound {
		t.Fatalf("another citizen deleted it: %v", err)
	}
	theirs, err := s.SavedSearches(citizenCtx("bruno"))
	if err != nil || len(theirs) != 0 {
		t.Fatalf("another citizen lists %v, %v", theirs, err)
	}
	for i := 1; i < sportello.MaxSavedSearches; i++ {
		if _, err := s.SaveSearch(citizenCtx("anna"), sportello.SavedSearchInput{Name: "altra"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SaveSearch(citizenCtx("anna"), sportello.SavedSearchInput{Name: "troppe"}); sportello.ErrorCode(err) != sportello.CodeConflict {
		t.Fatalf("saved more than the limit: %v", err)
	}
	if err := s.DeleteSavedSearch(citizenCtx("anna"), mine.ID); err != nil {
		t.Fatal(err)
	}
}

func TestDeadlineRemindersGoOutOnceThreeDaysBefore(t *testing.T) {
	d, s := newYouthDB(t)
	soon := publish(t, s, sportello.OpportunityInput{Category: sportello.CategoryJob, Title: "Animatore estivo", Deadline: dayFromClock(5)})
	later := publish(t, s, sportello.OpportunityInput{Category: sportello.CategoryJob, Title: "Guida turistica", Deadline: dayFromClock(30)})
	for _, subject := range []string{"carla", "dario"} {
		for _, o := range []*sportello.Opportunity{soon, later} {
			if _, err := s.SaveOpportunity(citizenCtx(subject), o.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.SaveOpportunity(citizenCtx("carla"), soon.ID); err != nil {
		t.Fatalf("saving twice: %v", err)
	}
	saved, err := s.SavedOpportunities(citizenCtx("carla"))
	if err != nil || len(saved) != 2 || saved[0].ID != soon.ID {
		t.Fatalf("saved %v, %v", saved, err)
	}
	if n, err := s.SendDeadlineReminders(context.Background()); err != nil || n != 0 {
		t.Fatalf("5 days before: sent %d, %v", n, err)
	}
	d.Now = func() time.Time { return youthClock.Add(48 * time.Hour) }
	// Two instances run the job at once: each reminder goes out once.
	results := make(chan int, 2)
	for range 2 {
		go func() {
			n, err := s.SendDeadlineReminders(context.Background())
			if err != nil {
				t.Error(err)
			}
			results <- n
		}()
	}
	if total := <-results + <-results; total != 2 {
		t.Fatalf("sent %d reminders, want 2", total)
	}
	if n, err := s.SendDeadlineReminders(context.Background()); err != nil || n != 0 {
		t.Fatalf("run again: sent %d, %v", n, err)
	}
	var n int
	if err := d.Get(&n, `SELECT count(*) FROM notifications WHERE kind = 'OPPORTUNITY_DEADLINE' AND subject_id = $1`, soon.ID); err != nil || n != 2 {
		t.Fatalf("%d reminder notifications, %v", n, err)
	}
	if ok, err := s.UnsaveOpportunity(citizenCtx("carla"), later.ID); err != nil || !ok {
		t.Fatalf("unsave: %v %v", ok, err)
	}
}

func TestOpportunityWritesNeedTheYouthDesk(t *testing.T) {
	_, s := newYouthDB(t)
	in := sportello.OpportunityInput{Category: sportello.CategoryJob, Title: "Barista"}
	for ctx, code := range map[context.Context]sportello.Code{
		anonymousCtx():                        sportello.CodeUnauthenticated,
		citizenCtx("c"):                       sportello.CodeForbidden,
		operatorCtx("op"):                     sportello.CodeForbidden,
		youthCtx():                            "",
		roleCtx(sportello.RoleAdmin, "admin"): "",
	} {
		_, err := s.CreateOpportunity(ctx, in)
		if (code == "" && err != nil) || (code != "" && sportello.ErrorCode(err) != code) {
			t.Errorf("%v: %v, want %q", sportello.UserFrom(ctx).Roles, err, code)
		}
	}
	draft, err := s.CreateOpportunity(youthCtx(), sportello.OpportunityInput{Category: sportello.CategoryJob, Title: "Cameriere",
		Source: sportello.SourceEURES, ExternalRef: "EURES-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Opportunity(anonymousCtx(), draft.ID); sportello.ErrorCode(err) != sportello.CodeNotFound {
		t.Fatalf("the public read a draft: %v", err)
	}
	if _, err := s.CreateOpportunity(youthCtx(), sportello.OpportunityInput{Category: sportello.CategoryJob, Title: "Altro",
		Source: sportello.SourceEURES, ExternalRef: "EURES-1"}); sportello.ErrorCode(err) != sportello.CodeConflict {
		t.Fatalf("a second opportunity with the same reference: %v", err)
	}
}

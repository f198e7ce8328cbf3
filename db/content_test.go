package db_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/db/dbtest"
)

// contentTown is a database with a clock the test moves, and the content service over it.
type contentTown struct {
	url   string
	d     *db.DB
	s     *db.ContentService
	clock atomic.Pointer[time.Time]
}

func newContentTown(t *testing.T) *contentTown {
	t.Helper()
	town := &contentTown{url: dbtest.NewURL(t)}
	town.d, _ = dbtest.OpenCounting(t, town.url)
	town.s = db.NewContentService(town.d)
	town.set(time.Date(2026, 11, 26, 9, 0, 0, 0, sportello.Rome))
	town.d.Now = func() time.Time { return *town.clock.Load() }
	return town
}

func (town *contentTown) set(at time.Time) { town.clock.Store(&at) }
func (town *contentTown) now() time.Time   { return *town.clock.Load() }

// writerCtx is a signed-in editor (or manager) of the default tenant.
func writerCtx(role sportello.Role, subject string) context.Context {
	return sportello.WithUser(context.Background(), &sportello.User{TenantID: sportello.DefaultTenantID,
		Subject: subject, Roles: []sportello.Role{role}, GivenName: "Redattore", FamilyName: subject})
}

var (
	alice = writerCtx(sportello.RoleEditor, "alice")
	bruno = writerCtx(sportello.RoleEditor, "bruno")
	marta = writerCtx(sportello.RoleManager, "marta")
)

func urpPage() sportello.NewContentInput {
	return sportello.NewContentInput{Type: sportello.ContentPage, ContentInput: sportello.ContentInput{
		Path: "/vivere-il-comune/urp", Title: "Ufficio Relazioni con il Pubblico", Summary: "Informazioni e segnalazioni.",
		Body: "## Orari\n\nMartedì 9-13 e 16-18.", Topics: []string{"URP"}}}
}

// publish takes an item from draft to online: alice wrote it, bruno approves and publishes it.
func (town *contentTown) publish(t *testing.T, id string) *sportello.Content {
	t.Helper()
	if _, err := town.s.SubmitContentForReview(alice, id); err != nil {
		t.Fatal(err)
	}
	if _, err := town.s.ApproveContent(bruno, id); err != nil {
		t.Fatal(err)
	}
	c, err := town.s.PublishContent(bruno, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (town *contentTown) create(t *testing.T, ctx context.Context, in sportello.NewContentInput) *sportello.Content {
	t.Helper()
	c, err := town.s.CreateContent(ctx, in)
	if err != nil {
		t.Fatalf("create %q: %v", in.Title, err)
	}
	return c
}

func TestContentGoesFromDraftToOnlineThroughReview(t *testing.T) {
	town := newContentTown(t)
	page := town.create(t, alice, urpPage())
	if page.Status != sportello.ContentDraft || page.Revision != 1 || page.Live() || page.Slug != "urp" ||
		!strings.Contains(page.BodyHTML, "<h2>Orari</h2>") {
		t.Fatalf("created %+v", page)
	}
	for name, ctx := range map[string]context.Context{"anonymous": anonymousCtx(), "citizen": citizenCtx("c1"), "operator": operatorCtx("op")} {
		if _, err := town.s.ContentByPath(ctx, "/vivere-il-comune/urp", "it"); sportello.ErrorCode(err) != sportello.CodeNotFound {
			t.Fatalf("%s read a draft: %v", name, err)
		}
	}
	if got, err := town.s.ContentByPath(bruno, "/vivere-il-comune/urp/", ""); err != nil || got.ID != page.ID {
		t.Fatalf("an editor cannot preview the draft: %+v, %v", got, err)
	}

	wantCode(t, ignore(town.s.ApproveContent(bruno, page.ID)), sportello.CodeInvalidTransition)
	wantCode(t, ignore(town.s.PublishContent(bruno, page.ID, nil)), sportello.CodeInvalidTransition)
	if _, err := town.s.SubmitContentForReview(alice, page.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, ignore(town.s.ApproveContent(alice, page.ID)), sportello.CodeForbidden)
	wantCode(t, ignore(town.s.ApproveContent(operatorCtx("op"), page.ID)), sportello.CodeForbidden)
	approved, err := town.s.ApproveContent(marta, page.ID)
	if err != nil || approved.Status != sportello.ContentApproved {
		t.Fatalf("approve = %+v, %v", approved, err)
	}
	live, err := town.s.PublishContent(alice, page.ID, nil)
	if err != nil || live.Status != sportello.ContentPublished || live.LiveRevision != 1 || !live.PublishedAt.Equal(town.now()) {
		t.Fatalf("publish = %+v, %v", live, err)
	}
	public, err := town.s.ContentByPath(anonymousCtx(), "/vivere-il-comune/urp", "it")
	if err != nil || public.Title != "Ufficio Relazioni con il Pubblico" || public.Status != sportello.ContentPublished {
		t.Fatalf("public page = %+v, %v", public, err)
	}

	// An edit is a new working copy: the approved text stays online until the edit is published.
	in := urpPage().ContentInput
	in.Title, in.Body = "URP - Ufficio Relazioni con il Pubblico", "## Orari\n\nMartedì 9-12 e 15-18."
	edited, err := town.s.UpdateContent(bruno, page.ID, in)
	if err != nil || edited.Status != sportello.ContentDraft || edited.Revision != 2 || edited.LiveRevision != 1 {
		t.Fatalf("edit = %+v, %v", edited, err)
	}
	if public, _ := town.s.ContentByPath(anonymousCtx(), "/vivere-il-comune/urp", "it"); public.Title != "Ufficio Relazioni con il Pubblico" || public.Revision != 1 {
		t.Fatalf("the public sees the working copy: %+v", public)
	}
	// bruno wrote revision 2: he may not approve it, and alice (who did not) may.
	if _, err := town.s.SubmitContentForReview(bruno, page.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, ignore(town.s.ApproveContent(bruno, page.ID)), sportello.CodeForbidden)
	if _, err := town.s.ApproveContent(alice, page.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := town.s.PublishContent(alice, page.ID, nil); err != nil {
		t.Fatal(err)
	}
	if public, _ := town.s.ContentByPath(anonymousCtx(), "/vivere-il-comune/urp", "it"); public.Revision != 2 || !strings.Contains(public.BodyHTML, "15-18") {
		t.Fatalf("the new revision is not online: %+v", public)
	}

	archived, err := town.s.ArchiveContent(marta, page.ID)
	if err != nil || archived.Status != sportello.ContentArchived || archived.Live() {
		t.Fatalf("archive = %+v, %v", archived, err)
	}
	wantCode(t, ignore(town.s.ContentByPath(anonymousCtx(), "/vivere-il-comune/urp", "it")), sportello.CodeNotFound)
	wantCode(t, ignore(town.s.ArchiveContent(marta, page.ID)), sportello.CodeInvalidTransition)
	// Two publications and the archiving were announced; drafts, reviews and approvals were not.
	if n := town.announcements(t, page.ID); n != 3 {
		t.Fatalf("%d announcements", n)
	}
}

func ignore[T any](_ T, err error) error { return err }

func TestWritingContentNeedsAnEditorAndBadInputWritesNothing(t *testing.T) {
	town := newContentTown(t)
	wantCode(t, ignore(town.s.CreateContent(anonymousCtx(), urpPage())), sportello.CodeUnauthenticated)
	wantCode(t, ignore(town.s.CreateContent(citizenCtx("c1"), urpPage())), sportello.CodeForbidden)
	wantCode(t, ignore(town.s.CreateContent(operatorCtx("op"), urpPage())), sportello.CodeForbidden)
	bad := urpPage()
	bad.Path = "/Vivere il comune"
	wantCode(t, ignore(town.s.CreateContent(alice, bad)), sportello.CodeBadUserInput)
	bad = urpPage()
	bad.OfficeID = "00000000-0000-0000-0000-00000000abcd"
	wantCode(t, ignore(town.s.CreateContent(alice, bad)), sportello.CodeNotFound)
	var n int
	if err := town.d.Get(&n, `SELECT (SELECT count(*) FROM contents) + (SELECT count(*) FROM content_revisions) + (SELECT count(*) FROM staff)`); err != nil || n != 0 {
		t.Fatalf("refused writes left %d rows (%v)", n, err)
	}

	page := town.create(t, alice, urpPage())
	wantCode(t, ignore(town.s.CreateContent(bruno, urpPage())), sportello.CodeConflict)
	news := sportello.NewContentInput{Type: sportello.ContentNews, ContentInput: sportello.ContentInput{Title: "Urp"}}
	town.create(t, bruno, news) // a page's slug is not an address: pages have their path
	wantCode(t, ignore(town.s.CreateContent(bruno, news)), sportello.CodeConflict)
	other := urpPage()
	other.Path = "/amministrazione/urp"
	town.create(t, bruno, other)
	bad = urpPage()
	bad.Path = ""
	wantCode(t, ignore(town.s.UpdateContent(bruno, page.ID, bad.ContentInput)), sportello.CodeBadUserInput)
	wantCode(t, ignore(town.s.UpdateContent(bruno, "nope", bad.ContentInput)), sportello.CodeNotFound)
	if revs, err := town.s.ContentRevisions(alice, page.ID); err != nil || len(revs) != 1 {
		t.Fatalf("a refused update wrote a revision: %d, %v", len(revs), err)
	}
}

func TestRevisionsAreListedComparedAndRestored(t *testing.T) {
	town := newContentTown(t)
	page := town.create(t, alice, urpPage())
	in := urpPage().ContentInput
	in.Body = "## Orari\n\nMartedì 9-12.\n\nChiuso il 24 giugno."
	if _, err := town.s.UpdateContent(bruno, page.ID, in); err != nil {
		t.Fatal(err)
	}
	revs, err := town.s.ContentRevisions(alice, page.ID)
	if err != nil || len(revs) != 2 || revs[0].Number != 2 || revs[0].Author.Name != "Redattore bruno" || revs[1].Author.Name != "Redattore alice" {
		t.Fatalf("revisions = %+v, %v", revs, err)
	}
	diff, err := town.s.ContentDiff(alice, page.ID, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	var changes []string
	for _, l := range diff {
		if l.Op != sportello.DiffEqual {
			changes = append(changes, string(l.Op)+" "+l.Text)
		}
	}
	want := []string{"DELETE Martedì 9-13 e 16-18.", "INSERT Martedì 9-12.", "INSERT ", "INSERT Chiuso il 24 giugno."}
	if !slices.Equal(changes, want) {
		t.Fatalf("diff = %q", changes)
	}
	wantCode(t, ignore(town.s.ContentDiff(alice, page.ID, 1, 9)), sportello.CodeNotFound)
	wantCode(t, ignore(town.s.ContentRevisions(anonymousCtx(), page.ID)), sportello.CodeUnauthenticated)

	restored, err := town.s.RestoreContentRevision(alice, page.ID, 1)
	if err != nil || restored.Revision != 3 || restored.Body != urpPage().Body || restored.Status != sportello.ContentDraft {
		t.Fatalf("restore = %+v, %v", restored, err)
	}
	if revs, _ := town.s.ContentRevisions(alice, page.ID); len(revs) != 3 || revs[0].RestoredFrom != 1 {
		t.Fatalf("restoring did not add a revision: %+v", revs[0])
	}
	wantCode(t, ignore(town.s.RestoreContentRevision(alice, page.ID, 7)), sportello.CodeNotFound)
}

func TestPortalListsTreesAndTranslations(t *testing.T) {
	town := newContentTown(t)
	for _, path := range []string{"/vivere-il-comune", "/vivere-il-comune/urp", "/vivere-il-comune/anagrafe", "/amministrazione"} {
		p := town.create(t, alice, sportello.NewContentInput{Type: sportello.ContentPage,
			ContentInput: sportello.ContentInput{Path: path, Title: "Pagina " + path}})
		town.publish(t, p.ID)
	}
	town.create(t, alice, sportello.NewContentInput{Type: sportello.ContentPage,
		ContentInput: sportello.ContentInput{Path: "/vivere-il-comune/bozza", Title: "Bozza"}})
	tree, err := town.s.ContentTree(anonymousCtx(), "it", "/vivere-il-comune")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, p := range tree {
		paths = append(paths, p.Path)
	}
	if !slices.Equal(paths, []string{"/vivere-il-comune", "/vivere-il-comune/anagrafe", "/vivere-il-comune/urp"}) {
		t.Fatalf("public tree = %v", paths)
	}
	if tree, _ := town.s.ContentTree(alice, "it", ""); len(tree) != 5 {
		t.Fatalf("editors' tree has %d pages", len(tree))
	}

	var ids []string
	for i, topic := range []string{"rifiuti", "scuola", "rifiuti"} {
		town.set(town.now().Add(time.Hour))
		n := town.create(t, alice, sportello.NewContentInput{Type: sportello.ContentNews,
			ContentInput: sportello.ContentInput{Title: fmt.Sprintf("Notizia %d", i), Topics: []string{topic}}})
		town.publish(t, n.ID)
		ids = append(ids, n.ID)
	}
	list, err := town.s.Contents(anonymousCtx(), sportello.ContentFilter{Types: []sportello.ContentType{sportello.ContentNews},
		Topic: "Rifiuti"}, sportello.Page{First: 1})
	if err != nil || len(list.Contents) != 1 || list.Contents[0].ID != ids[2] || !list.HasNextPage {
		t.Fatalf("first page = %+v, %v", list, err)
	}
	list, err = town.s.Contents(anonymousCtx(), sportello.ContentFilter{Types: []sportello.ContentType{sportello.ContentNews},
		Topic: "rifiuti"}, sportello.Page{First: 1, After: list.Cursors[0]})
	if err != nil || len(list.Contents) != 1 || list.Contents[0].ID != ids[0] || list.HasNextPage {
		t.Fatalf("second page = %+v, %v", list, err)
	}
	wantCode(t, ignore(town.s.Contents(anonymousCtx(), sportello.ContentFilter{Statuses: []sportello.ContentStatus{sportello.ContentDraft}},
		sportello.Page{})), sportello.CodeBadUserInput)

	en := town.create(t, alice, sportello.NewContentInput{Type: sportello.ContentNews, Language: "en", TranslationOf: ids[0],
		ContentInput: sportello.ContentInput{Title: "News 0", Slug: "notizia-0"}})
	if en.TranslationGroup != ids[0] {
		t.Fatalf("translation group = %s", en.TranslationGroup)
	}
	wantCode(t, ignore(town.s.CreateContent(alice, sportello.NewContentInput{Type: sportello.ContentNews, Language: "en",
		TranslationOf: ids[0], ContentInput: sportello.ContentInput{Title: "Another"}})), sportello.CodeConflict)
	groups, err := town.s.TranslationsByGroup(alice, []string{ids[0]})
	if err != nil || len(groups[ids[0]]) != 2 {
		t.Fatalf("translations = %+v, %v", groups, err)
	}
	if groups, _ := town.s.TranslationsByGroup(anonymousCtx(), []string{ids[0]}); len(groups[ids[0]]) != 1 {
		t.Fatalf("the public sees an unpublished translation: %+v", groups)
	}
}

func TestSearchFindsContentOnlyWhileItIsOnline(t *testing.T) {
	town := newContentTown(t)
	search := db.NewSearchService(town.d)
	find := func(ctx context.Context) int {
		t.Helper()
		hits, err := search.Search(ctx, sportello.SearchInput{Query: "raccolta differenziata", Types: []sportello.SearchType{sportello.SearchTypeContent}})
		if err != nil {
			t.Fatal(err)
		}
		return len(hits)
	}
	news := town.create(t, alice, sportello.NewContentInput{Type: sportello.ContentNews, ContentInput: sportello.ContentInput{
		Title: "Nuovo calendario della raccolta", Body: "La **raccolta differenziata** cambia giorno dal 1° dicembre."}})
	if find(anonymousCtx()) != 0 || find(bruno) != 1 || find(operatorCtx("op")) != 0 {
		t.Fatal("a draft is found by the public, or not by editors")
	}
	town.publish(t, news.ID)
	if find(anonymousCtx()) != 1 {
		t.Fatal("published content is not found")
	}
	hits, _ := search.Search(anonymousCtx(), sportello.SearchInput{Query: "differenziata"})
	if len(hits) != 1 || hits[0].Type != sportello.SearchTypeContent || strings.Contains(hits[0].Snippet, "**") {
		t.Fatalf("hits = %+v", hits)
	}
	if _, err := town.s.ArchiveContent(marta, news.ID); err != nil {
		t.Fatal(err)
	}
	if find(anonymousCtx()) != 0 {
		t.Fatal("archived content is still found")
	}
}

func TestScheduledPublicationHappensOnTimeOnceWithTwoInstances(t *testing.T) {
	town := newContentTown(t)
	// A second instance: its own pool on the same database, with the same clock.
	other, _ := dbtest.OpenCounting(t, town.url)
	other.Now = town.d.Now
	instances := []*db.ContentService{town.s, db.NewContentService(other)}

	const items = 20
	at := town.now().Add(time.Hour)
	until := at.Add(24 * time.Hour)
	var ids []string
	for i := range items {
		n := town.create(t, alice, sportello.NewContentInput{Type: sportello.ContentNotice, ContentInput: sportello.ContentInput{
			Title: fmt.Sprintf("Avviso %d sulla viabilità", i), UnpublishAt: &until}})
		if _, err := town.s.SubmitContentForReview(alice, n.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := town.s.ApproveContent(bruno, n.ID); err != nil {
			t.Fatal(err)
		}
		scheduled, err := town.s.PublishContent(bruno, n.ID, &at)
		if err != nil || scheduled.Status != sportello.ContentApproved || !scheduled.PublishAt.Equal(at) {
			t.Fatalf("schedule = %+v, %v", scheduled, err)
		}
		ids = append(ids, n.ID)
	}
	late := until.Add(time.Hour)
	wantCode(t, ignore(town.s.PublishContent(bruno, ids[0], &late)), sportello.CodeBadUserInput)

	race := func() map[string]int {
		t.Helper()
		seen := map[string]int{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, inst := range instances {
			for range 3 {
				wg.Go(func() {
					done, err := inst.RunSchedule(context.Background())
					if err != nil {
						t.Error(err)
					}
					mu.Lock()
					for _, p := range done {
						seen[p.ID]++
					}
					mu.Unlock()
				})
			}
		}
		wg.Wait()
		return seen
	}
	if seen := race(); len(seen) != 0 {
		t.Fatalf("published before its time: %v", seen)
	}
	public := func() int {
		list, err := town.s.Contents(anonymousCtx(), sportello.ContentFilter{}, sportello.Page{First: 100})
		if err != nil {
			t.Fatal(err)
		}
		return len(list.Contents)
	}
	if public() != 0 {
		t.Fatal("a scheduled item is online early")
	}

	town.set(at)
	seen := race()
	if len(seen) != items {
		t.Fatalf("published %d of %d items", len(seen), items)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("item %s published %d times", id, n)
		}
	}
	if public() != items {
		t.Fatalf("the public sees %d items", public())
	}
	if again := race(); len(again) != 0 {
		t.Fatalf("published again: %v", again)
	}
	if n := town.announcements(t, ids...); n != items {
		t.Fatalf("%d announcements of %d publications", n, items)
	}
	if c, _ := town.s.Content(anonymousCtx(), ids[0]); c == nil || !c.PublishedAt.Equal(at) {
		t.Fatalf("published at %v, want %v", c.PublishedAt, at)
	}

	// At unpublishAt the items leave the portal at once, and the scheduler archives each once.
	town.set(until)
	if public() != 0 {
		t.Fatal("an item is online after its unpublishAt")
	}
	gone := race()
	if len(gone) != items {
		t.Fatalf("unpublished %d of %d", len(gone), items)
	}
	if c, _ := town.s.Content(alice, ids[0]); c.Status != sportello.ContentArchived || c.Live() {
		t.Fatalf("after unpublishAt: %+v", c)
	}
	if n := town.announcements(t, ids...); n != 2*items {
		t.Fatalf("%d announcements of %d publications and unpublications", n, 2*items)
	}
}

// announcements counts the topic events that announced items going online or offline.
func (town *contentTown) announcements(t *testing.T, ids ...string) int {
	t.Helper()
	var n int
	if err := town.d.Get(&n, `SELECT count(*) FROM events WHERE topic = $1 AND subject_id = ANY($2::uuid[])`,
		sportello.TopicContentPublished, pq.Array(ids)); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDemoWebsiteSeedsOnce(t *testing.T) {
	d := dbtest.New(t)
	for range 2 {
		if err := db.SeedDemo(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	s := db.NewContentService(d)
	urp, err := s.ContentByPath(anonymousCtx(), "/vivere-il-comune/urp", "it")
	if err != nil || !strings.Contains(urp.BodyHTML, "<td>16:00 - 18:00</td>") || urp.OfficeID == "" {
		t.Fatalf("URP page = %+v, %v", urp, err)
	}
	news, err := s.Contents(anonymousCtx(), sportello.ContentFilter{Types: []sportello.ContentType{sportello.ContentNews}}, sportello.Page{})
	if err != nil || len(news.Contents) != 2 {
		t.Fatalf("public news = %d, %v", len(news.Contents), err)
	}
	campaigns, err := db.NewCampaignService(d).Campaigns(alice, nil)
	if err != nil || len(campaigns) != 1 {
		t.Fatalf("campaigns = %d, %v", len(campaigns), err)
	}
	log, err := db.NewCampaignService(d).DistributionsByCampaign(alice, []string{campaigns[0].ID})
	if err != nil || sportello.TotalDistributions(log[campaigns[0].ID]).Copies != 818 {
		t.Fatalf("distribution log = %+v, %v", log, err)
	}
}

package main

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	sportello "github.com/sportello/sportello"
)

const createContent = `mutation($in: NewContentInput!) { createContent(input: $in) { id status revision slug path bodyHtml } }`

type contentResult struct {
	ID, Status, Slug string
	Revision         int
	Path             *string
	BodyHTML         string `json:"bodyHtml"`
}

// editorialStep runs a workflow mutation on an item and returns its status.
func (s *testServer) editorialStep(token, mutation, id string) string {
	s.t.Helper()
	var out map[string]struct{ Status string }
	s.ok(token, `mutation($id: ID!) { `+mutation+`(id: $id) { status } }`, map[string]any{"id": id}, &out)
	return out[mutation].Status
}

func TestEditorsWriteReviewAndPublishAPageThePortalReads(t *testing.T) {
	s := startServer(t)
	alice := s.token(sportello.RoleEditor, "alice")
	bruno := s.token(sportello.RoleEditor, "bruno")
	operator := s.token(sportello.RoleOperator, "op")
	in := map[string]any{"type": "PAGE", "path": "/vivere-il-comune/urp", "title": "Ufficio Relazioni con il Pubblico",
		"summary": "Informazioni, segnalazioni e reclami.", "topics": []string{"URP"},
		"body": "## Orari\n\n| Giorno | Orario |\n|---|---|\n| Martedì | 9-13, 16-18 |\n\n<script>alert(1)</script>[prenota](javascript:alert(1))"}

	s.fails("", createContent, map[string]any{"in": in}, sportello.CodeUnauthenticated, "")
	s.fails(operator, createContent, map[string]any{"in": in}, sportello.CodeForbidden, "")
	bad := map[string]any{"type": "PAGE", "title": "Senza percorso"}
	s.fails(alice, createContent, map[string]any{"in": bad}, sportello.CodeBadUserInput, "path")

	var created struct{ CreateContent contentResult }
	s.ok(alice, createContent, map[string]any{"in": in}, &created)
	page := created.CreateContent
	if page.Status != "DRAFT" || page.Slug != "urp" || !strings.Contains(page.BodyHTML, "<td>Martedì</td>") ||
		strings.Contains(page.BodyHTML, "<script") || strings.Contains(page.BodyHTML, "href=\"javascript") {
		t.Fatalf("created %+v", page)
	}
	s.fails(bruno, createContent, map[string]any{"in": in}, sportello.CodeConflict, "path")

	const byPath = `query($p: String!) { contentByPath(path: $p) { title bodyHtml status revision live parentPath
		translations { language } office { name } } }`
	vars := map[string]any{"p": "/vivere-il-comune/urp"}
	s.fails("", byPath, vars, sportello.CodeNotFound, "")
	var preview struct{ ContentByPath struct{ Status string } }
	s.ok(bruno, byPath, vars, &preview)
	if preview.ContentByPath.Status != "DRAFT" {
		t.Fatalf("preview = %+v", preview)
	}

	if got := s.editorialStep(alice, "submitContentForReview", page.ID); got != "IN_REVIEW" {
		t.Fatalf("submitted: %s", got)
	}
	s.fails(alice, `mutation($id: ID!) { approveContent(id: $id) { status } }`, map[string]any{"id": page.ID}, sportello.CodeForbidden, "")
	s.fails(alice, `mutation($id: ID!) { publishContent(id: $id) { status } }`, map[string]any{"id": page.ID}, sportello.CodeInvalidTransition, "")
	if got := s.editorialStep(bruno, "approveContent", page.ID); got != "APPROVED" {
		t.Fatalf("approved: %s", got)
	}
	if got := s.editorialStep(bruno, "publishContent", page.ID); got != "PUBLISHED" {
		t.Fatalf("published: %s", got)
	}

	// The portal reads it anonymously over GET, and caches may keep it.
	query := `{ contentByPath(path: "/vivere-il-comune/urp") { title bodyHtml parentPath } }`
	res, body := s.getGraphQL(query, "", nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Ufficio Relazioni con il Pubblico") ||
		!strings.Contains(body, `"parentPath":"/vivere-il-comune"`) {
		t.Fatalf("public page: %d %s", res.StatusCode, body)
	}
	if res.Header.Get("Cache-Control") != publicCacheControl || res.Header.Get("ETag") == "" {
		t.Fatalf("public page is not cacheable: %v", res.Header)
	}
	if res, _ := s.getGraphQL(query, "", map[string]string{"If-None-Match": res.Header.Get("ETag")}); res.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d", res.StatusCode)
	}
	if res, _ := s.getGraphQL(query, "", map[string]string{"Authorization": "Bearer " + bruno}); res.Header.Get("Cache-Control") != "private, no-store" {
		t.Fatalf("an editor's preview is cacheable: %v", res.Header)
	}

	// An edit is a draft for editors while the public keeps the approved text.
	edit := `mutation($id: ID!, $in: ContentInput!) { updateContent(id: $id, input: $in) { status revision liveRevision live } }`
	var edited struct {
		UpdateContent struct {
			Status       string
			Revision     int
			LiveRevision *int `json:"liveRevision"`
			Live         bool
		}
	}
	s.ok(bruno, edit, map[string]any{"id": page.ID, "in": map[string]any{"path": "/vivere-il-comune/urp",
		"title": "URP", "body": "## Orari\n\nMartedì 9-12."}}, &edited)
	if u := edited.UpdateContent; u.Status != "DRAFT" || u.Revision != 2 || u.LiveRevision == nil || *u.LiveRevision != 1 || !u.Live {
		t.Fatalf("edited %+v", u)
	}
	var public struct{ ContentByPath struct{ Title string } }
	s.ok("", byPath, vars, &public)
	if public.ContentByPath.Title != "Ufficio Relazioni con il Pubblico" {
		t.Fatalf("the public sees the draft: %+v", public)
	}

	var revs struct {
		ContentRevisions []struct {
			Number int
			Author struct{ Name string }
		}
		ContentDiff []struct{ Op, Text string }
	}
	s.ok(alice, `query($id: ID!) { contentRevisions(id: $id) { number author { name } } contentDiff(id: $id, from: 1, to: 2) { op text } }`,
		map[string]any{"id": page.ID}, &revs)
	if len(revs.ContentRevisions) != 2 || revs.ContentRevisions[0].Author.Name != "Nomebruno Cognome" || len(revs.ContentDiff) == 0 {
		t.Fatalf("revisions = %+v", revs)
	}
	s.fails("", `query($id: ID!) { contentRevisions(id: $id) { number } }`, map[string]any{"id": page.ID}, sportello.CodeUnauthenticated, "")

	var found struct {
		Search []struct {
			Type string
			Item struct {
				Typename string `json:"__typename"`
				Path     string
			}
		}
	}
	s.ok("", `{ search(query: "ufficio relazioni", types: [CONTENT]) { type item { __typename ... on Content { path } } } }`, nil, &found)
	if len(found.Search) != 1 || found.Search[0].Item.Typename != "Content" || found.Search[0].Item.Path != "/vivere-il-comune/urp" {
		t.Fatalf("search = %+v", found)
	}
}

func TestCampaignDistributionLogAddsUp(t *testing.T) {
	s := startServer(t)
	editor := s.token(sportello.RoleEditor, "alice")
	var created struct{ CreateContent contentResult }
	s.ok(editor, createContent, map[string]any{"in": map[string]any{"type": "BROCHURE", "title": "Pieghevole della differenziata"}}, &created)

	const create = `mutation($in: CampaignInput!) { createCampaign(input: $in) { id status channels contents { title } } }`
	in := map[string]any{"name": "Differenziata 2027", "audience": "EXTERNAL", "channels": []string{"LEAFLETS", "POSTERS"},
		"startsOn": "2027-01-10", "endsOn": "2027-03-31", "contentIds": []string{created.CreateContent.ID},
		"targetGroups": []string{"Famiglie"}, "resultLinks": []map[string]any{{"url": "https://survey.example.it/d", "description": "Questionario"}}}
	s.fails(s.token(sportello.RoleCitizen, "cit"), create, map[string]any{"in": in}, sportello.CodeForbidden, "")
	var camp struct {
		CreateCampaign struct {
			ID, Status string
			Contents   []struct{ Title string }
		}
	}
	s.ok(editor, create, map[string]any{"in": in}, &camp)
	if camp.CreateCampaign.Status != "PLANNED" || len(camp.CreateCampaign.Contents) != 1 {
		t.Fatalf("campaign = %+v", camp)
	}
	const record = `mutation($id: ID!, $in: DistributionInput!) { recordDistribution(campaignId: $id, input: $in) { id deliveredBy recordedBy { name } } }`
	for _, d := range []map[string]any{
		{"material": "Pieghevole", "contentId": created.CreateContent.ID, "channel": "LEAFLETS", "place": "Biblioteca civica", "copies": 200, "deliveredOn": "2027-01-12"},
		{"material": "Manifesto", "channel": "POSTERS", "place": "Scuola Dante", "copies": 10, "deliveredOn": "2027-01-11", "deliveredBy": "Affissioni"},
	} {
		s.ok(editor, record, map[string]any{"id": camp.CreateCampaign.ID, "in": d}, nil)
	}
	s.fails(editor, record, map[string]any{"id": camp.CreateCampaign.ID, "in": map[string]any{"material": "Post", "channel": "SOCIAL",
		"place": "Instagram", "copies": 1, "deliveredOn": "2027-01-12"}}, sportello.CodeBadUserInput, "channel")
	var got struct {
		Campaign struct {
			Distributions []struct {
				Place   string
				Content *struct{ Title string }
			}
			Totals struct {
				Deliveries, Copies int
				ByPlace            []struct {
					Key    string
					Copies int
				} `json:"byPlace"`
			}
			ResultLinks []struct{ URL string } `json:"resultLinks"`
		}
	}
	s.ok(editor, `query($id: ID!) { campaign(id: $id) { distributions { place content { title } } totals { deliveries copies byPlace { key copies } } resultLinks { url } } }`,
		map[string]any{"id": camp.CreateCampaign.ID}, &got)
	c := got.Campaign
	if len(c.Distributions) != 2 || c.Distributions[0].Place != "Scuola Dante" || c.Distributions[1].Content == nil ||
		c.Totals.Copies != 210 || c.Totals.ByPlace[0].Key != "Biblioteca civica" || len(c.ResultLinks) != 1 {
		t.Fatalf("campaign = %+v", c)
	}
}

// contentEvent reads the next contentPublished event of a subscription.
func (c *wsClient) contentEvent() (id string, live bool, title string) {
	c.t.Helper()
	m := c.read(20 * time.Second)
	var p struct {
		Data struct {
			ContentPublished struct {
				Cursor, ID, Type string
				Live             bool
				Content          *struct{ Title string }
			} `json:"contentPublished"`
		}
		Errors []gqlError
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil || m.Type != "next" || len(p.Errors) > 0 {
		c.t.Fatalf("got %s %s", m.Type, m.Payload)
	}
	e := p.Data.ContentPublished
	if e.Content != nil {
		title = e.Content.Title
	}
	return e.ID, e.Live, title
}

// TestScheduledPublicationHappensOnceAcrossInstancesAndRestarts schedules a notice while no
// instance runs the schedule (all were down), starts two instances, which both find it due at
// once, then schedules another while they run: each is published and announced exactly once,
// and an anonymous subscriber (the portal) hears of both and of an archiving.
func TestScheduledPublicationHappensOnceAcrossInstancesAndRestarts(t *testing.T) {
	s := startServer(t) // its App serves requests but does not run the schedule
	editor := s.token(sportello.RoleEditor, "alice")
	manager := s.token(sportello.RoleManager, "marta")
	notice := func(title string) string {
		var created struct{ CreateContent contentResult }
		s.ok(editor, createContent, map[string]any{"in": map[string]any{"type": "NOTICE", "title": title}}, &created)
		id := created.CreateContent.ID
		s.editorialStep(editor, "submitContentForReview", id)
		s.editorialStep(manager, "approveContent", id)
		return id
	}
	const schedule = `mutation($id: ID!, $at: Time!) { publishContent(id: $id, at: $at) { status publishAt } }`
	first, second := notice("Strade chiuse per la maratona"), notice("Sospensione idrica in via Roma")

	portal := dialWS(t, s.URL, "")
	portal.subscribe("c", `subscription { contentPublished { cursor id type live content { title } } }`, nil)

	at := time.Now().Add(time.Second).Truncate(time.Second)
	s.ok(manager, schedule, map[string]any{"id": first, "at": at.Format(time.RFC3339)}, nil)
	time.Sleep(time.Until(at) + 100*time.Millisecond)
	s.fails("", `query($id: ID!) { content(id: $id) { title } }`, map[string]any{"id": first}, sportello.CodeNotFound, "")

	a := startInstance(t, s.dbURL, os.Getenv("REDIS_URL"))
	b := startInstance(t, s.dbURL, os.Getenv("REDIS_URL"))
	if id, live, title := portal.contentEvent(); id != first || !live || title != "Strade chiuse per la maratona" {
		t.Fatalf("first event: %s %v %q", id, live, title)
	}
	var public struct{ Content struct{ Title string } }
	s.at(b.URL).ok("", `query($id: ID!) { content(id: $id) { title } }`, map[string]any{"id": first}, &public)

	at = time.Now().Add(time.Second)
	s.at(a.URL).ok(manager, schedule, map[string]any{"id": second, "at": at.Format(time.RFC3339Nano)}, nil)
	if id, live, _ := portal.contentEvent(); id != second || !live {
		t.Fatalf("second event: %s %v", id, live)
	}
	s.at(b.URL).ok(manager, `mutation($id: ID!) { archiveContent(id: $id) { status } }`, map[string]any{"id": first}, nil)
	if id, live, title := portal.contentEvent(); id != first || live || title != "" {
		t.Fatalf("archiving event: %s %v %q", id, live, title)
	}
	for id, want := range map[string]int{first: 2, second: 1} {
		if n := s.count(`SELECT count(*) FROM events WHERE topic = $1 AND subject_id = $2`, sportello.TopicContentPublished, id); n != want {
			t.Fatalf("item %s announced %d times, want %d", id, n, want)
		}
	}
}

package main

import (
	"testing"
	"time"

	sportello "github.com/sportello/sportello"
)

const createOpportunity = `mutation($in: OpportunityInput!) { createOpportunity(input: $in) { id status } }`

const publishOpportunity = `mutation($id: ID!) { publishOpportunity(id: $id) { id status publishedAt } }`

// youthOpportunity creates and publishes an opportunity as the youth desk and returns its id.
func (s *testServer) youthOpportunity(token string, in map[string]any) string {
	s.t.Helper()
	var created struct{ CreateOpportunity struct{ ID, Status string } }
	s.ok(token, createOpportunity, map[string]any{"in": in}, &created)
	if created.CreateOpportunity.Status != "DRAFT" {
		s.t.Fatalf("created %+v", created)
	}
	s.ok(token, publishOpportunity, map[string]any{"id": created.CreateOpportunity.ID}, nil)
	return created.CreateOpportunity.ID
}

func TestYouthDeskPublishesAndYoungCitizensFindAndSave(t *testing.T) {
	s := startServer(t)
	desk := s.token(sportello.RoleYouthDesk, "youth-1")
	operator := s.token(sportello.RoleOperator, "op-1")
	citizen := s.token(sportello.RoleCitizen, "giovane-1")
	deadline := sportello.DateOf(time.Now()).AddDays(20).String()

	in := map[string]any{"category": "INTERNSHIP", "title": "Tirocinio in un'agenzia di comunicazione",
		"description": "Sei mesi di attività nel marketing digitale.", "country": "it", "municipality": "Milano",
		"location": map[string]any{"latitude": 45.485, "longitude": 9.22, "address": "Via Tortona 1, Milano"},
		"minAge":   18, "maxAge": 29, "languages": []string{"it", "en"}, "deadline": deadline, "url": "https://example.it/tirocinio"}
	s.fails(operator, createOpportunity, map[string]any{"in": in}, sportello.CodeForbidden, "")
	s.fails(citizen, createOpportunity, map[string]any{"in": in}, sportello.CodeForbidden, "")
	s.fails("", createOpportunity, map[string]any{"in": in}, sportello.CodeUnauthenticated, "")
	bad := map[string]any{"category": "JOB", "title": "Lavoro", "minAge": 30, "maxAge": 20}
	s.fails(desk, createOpportunity, map[string]any{"in": bad}, sportello.CodeBadUserInput, "maxAge")
	s.fails(desk, publishOpportunity, map[string]any{"id": "00000000-0000-0000-0000-000000000000"}, sportello.CodeNotFound, "")

	// A citizen saves a search before the opportunity is published.
	const saveSearch = `mutation($in: SavedSearchInput!) { saveSearch(input: $in) { id name alerts criteria { text categories country near { radiusMeters } age } } }`
	var saved struct {
		SaveSearch struct {
			ID       string
			Alerts   bool
			Criteria struct {
				Text    string
				Country string
				Age     int
			}
		}
	}
	s.ok(citizen, saveSearch, map[string]any{"in": map[string]any{"name": "Tirocini a Milano", "text": "tirocinio comunicazione",
		"categories": []string{"INTERNSHIP"}, "country": "IT", "age": 22,
		"near": map[string]any{"latitude": 45.4642, "longitude": 9.19, "radiusMeters": 10000}}}, &saved)
	if !saved.SaveSearch.Alerts || saved.SaveSearch.Criteria.Country != "IT" || saved.SaveSearch.Criteria.Age != 22 {
		t.Fatalf("saved %+v", saved)
	}
	s.fails(operator, `{ savedSearches { id } }`, nil, sportello.CodeForbidden, "")

	ws := dialWS(t, s.URL, citizen)
	ws.subscribe("alerts", `subscription { opportunityAlerts { cursor notification { kind title } opportunity { id title } } }`, nil)
	time.Sleep(200 * time.Millisecond)

	id := s.youthOpportunity(desk, in)

	m := ws.read(10 * time.Second)
	var alert struct {
		Data struct {
			OpportunityAlerts struct {
				Cursor       string
				Notification struct{ Kind, Title string }
				Opportunity  struct{ ID string }
			}
		}
	}
	if err := jsonUnmarshal(m.Payload, &alert); err != nil || m.Type != "next" ||
		alert.Data.OpportunityAlerts.Opportunity.ID != id || alert.Data.OpportunityAlerts.Notification.Kind != "OPPORTUNITY_ALERT" {
		t.Fatalf("alert %s %s: %v", m.Type, m.Payload, err)
	}

	const search = `query($f: OpportunityFilter, $after: String) { opportunities(filter: $f, first: 10, after: $after) {
		edges { cursor node { id title status country minAge maxAge languages deadline location { latitude address } office { name } } }
		pageInfo { hasNextPage endCursor } } }`
	var found struct {
		Opportunities struct {
			Edges []struct {
				Node struct {
					ID, Title, Status, Country string
					MaxAge                     int
				}
			}
		}
	}
	s.ok("", search, map[string]any{"f": map[string]any{"text": "attivita tirocini", "closingWithinDays": 30, "age": 25,
		"near": map[string]any{"latitude": 45.4642, "longitude": 9.19, "radiusMeters": 5000}}}, &found)
	if len(found.Opportunities.Edges) != 1 || found.Opportunities.Edges[0].Node.ID != id || found.Opportunities.Edges[0].Node.Status != "PUBLISHED" {
		t.Fatalf("found %+v", found)
	}
	s.ok("", search, map[string]any{"f": map[string]any{"country": "FR"}}, &found)
	if len(found.Opportunities.Edges) != 0 {
		t.Fatalf("found in France %+v", found)
	}
	s.fails("", search, map[string]any{"f": map[string]any{"statuses": []string{"DRAFT"}}}, sportello.CodeBadUserInput, "filter.statuses")
	s.fails("", search, map[string]any{"f": map[string]any{"near": map[string]any{"latitude": 95, "longitude": 9, "radiusMeters": 10}}},
		sportello.CodeBadUserInput, "filter.near.latitude")

	var global struct {
		Search []struct {
			Type string
			Item struct{ ID, Title string }
		}
	}
	s.ok("", `{ search(query: "agenzia comunicazione", types: [OPPORTUNITY]) { type item { ... on Opportunity { id title } } } }`, nil, &global)
	if len(global.Search) != 1 || global.Search[0].Type != "OPPORTUNITY" || global.Search[0].Item.ID != id {
		t.Fatalf("global search %+v", global)
	}

	// The saved search alerted the citizen, in their notifications.
	var notes struct {
		Notifications struct {
			Edges []struct {
				Node struct{ Kind, Title, Link string }
			}
		}
	}
	s.ok(citizen, `{ notifications(first: 10) { edges { node { kind title link } } } }`, nil, &notes)
	if len(notes.Notifications.Edges) != 1 || notes.Notifications.Edges[0].Node.Kind != "OPPORTUNITY_ALERT" ||
		notes.Notifications.Edges[0].Node.Link != "/opportunities/"+id {
		t.Fatalf("notifications %+v", notes)
	}

	var mine struct{ SaveOpportunity struct{ ID string } }
	s.ok(citizen, `mutation($id: ID!) { saveOpportunity(id: $id) { id } }`, map[string]any{"id": id}, &mine)
	var list struct{ SavedOpportunities []struct{ ID string } }
	s.ok(citizen, `{ savedOpportunities { id } }`, nil, &list)
	if len(list.SavedOpportunities) != 1 || list.SavedOpportunities[0].ID != id {
		t.Fatalf("saved opportunities %+v", list)
	}
	s.ok(desk, `mutation($id: ID!) { withdrawOpportunity(id: $id) { status } }`, map[string]any{"id": id}, nil)
	s.fails("", `query($id: ID!) { opportunity(id: $id) { id } }`, map[string]any{"id": id}, sportello.CodeNotFound, "")
}

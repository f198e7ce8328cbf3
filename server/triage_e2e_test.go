package main

import (
	"testing"
	"time"

	sportello "github.com/sportello/sportello"
)

func TestManagersRouteTicketsAndCitizensFollowThem(t *testing.T) {
	s := startServer(t)
	var office string
	if err := s.DB.Get(&office, `INSERT INTO offices (tenant_id, name) VALUES ($1, 'Lavori Pubblici') RETURNING id`,
		sportello.DefaultTenantID); err != nil {
		t.Fatal(err)
	}
	manager := s.token(sportello.RoleManager, "mgr")
	operator := s.token(sportello.RoleOperator, "op")
	author := s.token(sportello.RoleCitizen, "author")
	follower := s.token(sportello.RoleCitizen, "follower")

	const create = `mutation($in: RoutingRuleInput!) { createRoutingRule(input: $in) { id name keywords office { name } priority strategy } }`
	rule := map[string]any{"name": "Strade", "position": 10, "keywords": []string{"Buca", "marciapied*"}, "officeId": office, "priority": "HIGH"}
	s.fails(operator, create, map[string]any{"in": rule}, sportello.CodeForbidden, "")
	s.fails(manager, create, map[string]any{"in": map[string]any{"name": "X", "position": 1, "officeId": office,
		"area": map[string]any{"center": map[string]any{"latitude": 95, "longitude": 12}, "radiusMeters": 10}}},
		sportello.CodeBadUserInput, "area.center.latitude")
	var created struct {
		CreateRoutingRule struct {
			ID       string
			Keywords []string
			Priority string
		}
	}
	s.ok(manager, create, map[string]any{"in": rule}, &created)
	if created.CreateRoutingRule.Priority != "HIGH" || len(created.CreateRoutingRule.Keywords) != 2 || created.CreateRoutingRule.Keywords[0] != "buca" {
		t.Fatalf("rule = %+v", created.CreateRoutingRule)
	}

	var dry struct {
		TestRoutingRule struct {
			Rule   struct{ Name string }
			Office struct{ Name string }
			Reason string
		}
	}
	s.ok(operator, `query { testRoutingRule(input: {kind: REPORT, subject: "Marciapiede rotto"}) { rule { name } office { name } reason } }`, nil, &dry)
	if dry.TestRoutingRule.Rule.Name != "Strade" || dry.TestRoutingRule.Office.Name != "Lavori Pubblici" {
		t.Fatalf("dry run = %+v", dry.TestRoutingRule)
	}

	sub := s.submit(author, map[string]any{"kind": "REPORT", "subject": "Buca in via Roma", "body": "Profonda, davanti al 12."})
	id := sub.SubmitTicket.Ticket.ID
	const read = `query($id: ID!) { ticket(id: $id) { priority followerCount office { name } citizen { fullName }
		history { type reason rule { name } actor { kind name } } messages { body author { name } } } }`
	type view struct {
		Ticket struct {
			Priority      string
			FollowerCount int
			Office        *struct{ Name string }
			Citizen       *struct{ FullName string }
			History       []struct {
				Type   string
				Reason *string
				Rule   *struct{ Name string }
				Actor  struct{ Kind, Name *string }
			}
			Messages []struct {
				Body   string
				Author struct{ Name *string }
			}
		}
	}
	var staffView view
	s.ok(operator, read, map[string]any{"id": id}, &staffView)
	h := staffView.Ticket.History
	if staffView.Ticket.Priority != "HIGH" || staffView.Ticket.Office == nil || len(h) != 2 || h[1].Type != "ROUTED" ||
		h[1].Rule == nil || h[1].Rule.Name != "Strade" || *h[1].Actor.Kind != "SYSTEM" {
		t.Fatalf("operator's view = %+v", staffView.Ticket)
	}

	var dups struct {
		DuplicateCandidates []struct {
			TicketID       string
			ProtocolNumber string
			FollowerCount  int
		}
	}
	s.ok("", `query { duplicateCandidates(input: {kind: REPORT, subject: "buca via roma"}) { ticketId protocolNumber followerCount } }`, nil, &dups)
	if len(dups.DuplicateCandidates) != 1 || dups.DuplicateCandidates[0].TicketID != id {
		t.Fatalf("duplicates = %+v", dups.DuplicateCandidates)
	}
	s.fails(follower, read, map[string]any{"id": id}, sportello.CodeNotFound, "")
	s.ok(follower, `mutation($id: ID!) { followTicket(id: $id) { id } }`, map[string]any{"id": id}, nil)
	s.ok(author, `mutation($id: ID!) { postTicketMessage(ticketId: $id, body: "Aggiungo una foto") { id } }`, map[string]any{"id": id}, nil)
	s.ok(operator, `mutation($id: ID!) { postTicketMessage(ticketId: $id, body: "Da verificare", internal: true) { id } }`, map[string]any{"id": id}, nil)

	var followerView view
	s.ok(follower, read, map[string]any{"id": id}, &followerView)
	ft := followerView.Ticket
	if ft.FollowerCount != 1 || ft.Citizen != nil || len(ft.Messages) != 1 || ft.Messages[0].Author.Name != nil {
		t.Fatalf("a follower sees the author's details or internal notes: %+v", ft)
	}
	for _, e := range ft.History {
		if e.Type == "ROUTED" && e.Rule != nil {
			t.Errorf("a follower sees the routing rule: %+v", e)
		}
		if e.Actor.Kind != nil && *e.Actor.Kind == "CITIZEN" && e.Actor.Name != nil {
			t.Errorf("a follower sees the author's name: %+v", e)
		}
	}
	var authorView view
	s.ok(author, read, map[string]any{"id": id}, &authorView)
	if m := authorView.Ticket.Messages; len(m) != 1 || m[0].Author.Name == nil {
		t.Errorf("the author sees their own name: %+v", m)
	}
	s.fails(follower, `mutation($id: ID!) { postTicketMessage(ticketId: $id, body: "Anche io") { id } }`, map[string]any{"id": id},
		sportello.CodeNotFound, "")

	var list struct {
		Tickets struct {
			Edges []struct{ Node struct{ Priority string } }
		}
	}
	s.ok(operator, `query { tickets(orderBy: PRIORITY) { edges { node { priority } } } }`, nil, &list)
	if len(list.Tickets.Edges) != 1 || list.Tickets.Edges[0].Node.Priority != "HIGH" {
		t.Fatalf("list by priority = %+v", list)
	}
	s.ok(operator, `mutation($id: ID!) { setTicketPriority(id: $id, priority: URGENT) { priority } }`, map[string]any{"id": id}, nil)

	const tpl = `mutation($in: ReplyTemplateInput!) { createReplyTemplate(input: $in) { id } }`
	s.fails(manager, tpl, map[string]any{"in": map[string]any{"name": "Presa in carico", "body": "Gentile {{cognome}}"}}, sportello.CodeBadUserInput, "body")
	var made struct{ CreateReplyTemplate struct{ ID string } }
	s.ok(manager, tpl, map[string]any{"in": map[string]any{"name": "Presa in carico", "kind": "REPORT",
		"body": "Gentile {{nome}}, la segnalazione {{protocollo}} è presa in carico da {{ufficio}}."}}, &made)
	var rendered struct{ RenderReplyTemplate string }
	s.ok(operator, `query($t: ID!, $id: ID!) { renderReplyTemplate(templateId: $t, ticketId: $id) }`,
		map[string]any{"t": made.CreateReplyTemplate.ID, "id": id}, &rendered)
	if want := "Gentile Nomeauthor Cognome, la segnalazione " + sub.SubmitTicket.ProtocolNumber + " è presa in carico da Lavori Pubblici."; rendered.RenderReplyTemplate != want {
		t.Fatalf("rendered %q, want %q", rendered.RenderReplyTemplate, want)
	}
}

func TestFollowersReceivePublicEventsLiveButNeverInternalNotes(t *testing.T) {
	s := startServer(t)
	author := s.token(sportello.RoleCitizen, "author")
	follower := s.token(sportello.RoleCitizen, "follower")
	operator := s.token(sportello.RoleOperator, "op")
	id := s.submit(author, ticketInput("REPORT", "Lampione spento")).SubmitTicket.Ticket.ID
	s.ok(follower, `mutation($id: ID!) { followTicket(id: $id) { id } }`, map[string]any{"id": id}, nil)
	var created struct {
		Ticket struct{ History []struct{ Cursor string } }
	}
	s.ok(operator, `query($id: ID!) { ticket(id: $id) { history { cursor } } }`, map[string]any{"id": id}, &created)

	// Subscribing after the filing's event replays what follows it, so nothing can be missed
	// between the subscription and the changes below.
	ws := dialWS(t, s.URL, follower)
	ws.subscribe("mine", `subscription($after: String) { myTicketEvents(after: $after) { `+eventFields+` actor { name } } }`,
		map[string]any{"after": created.Ticket.History[0].Cursor})
	s.ok(operator, `mutation($id: ID!) { postTicketMessage(ticketId: $id, body: "Nota interna", internal: true) { id } }`, map[string]any{"id": id}, nil)
	s.ok(operator, `mutation($id: ID!) { postTicketMessage(ticketId: $id, body: "Interveniamo domani") { id } }`, map[string]any{"id": id}, nil)
	s.ok(operator, `mutation($id: ID!) { setTicketPriority(id: $id, priority: HIGH) { id } }`, map[string]any{"id": id}, nil)

	for _, want := range []string{"MESSAGE_POSTED", "PRIORITY_CHANGED"} {
		e := ws.nextEvent("myTicketEvents", 10*time.Second)
		if e.Ticket.ID != id || e.Type != want || e.Internal {
			t.Fatalf("the follower received %+v, want the public %s", e, want)
		}
	}
}

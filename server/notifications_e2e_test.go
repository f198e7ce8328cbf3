package main

import (
	"encoding/json"
	"testing"
	"time"

	sportello "github.com/sportello/sportello"
)

func TestReportsCarryALocationAndOperatorsFilterByArea(t *testing.T) {
	s := startServer(t)
	citizen := s.token(sportello.RoleCitizen, "alice")
	operator := s.token(sportello.RoleOperator, "op")
	near := ticketInput("REPORT", "Lampione spento in piazza Castello")
	near["location"] = map[string]any{"latitude": 45.0712, "longitude": 7.6854, "address": "Piazza Castello"}
	far := ticketInput("REPORT", "Buca in corso Unione Sovietica")
	far["location"] = map[string]any{"latitude": 45.0300, "longitude": 7.6400}
	nearID := s.submit(citizen, near).SubmitTicket.Ticket.ID
	s.submit(citizen, far)
	s.submit(citizen, ticketInput("REPORT", "Senza luogo"))

	var got struct {
		Tickets struct {
			Edges []struct {
				Node struct {
					ID       string
					Location struct {
						Latitude  *float64
						Longitude *float64
						Address   *string
					}
				}
			}
		}
	}
	s.ok(operator, `query($near: AreaInput) { tickets(filter: {near: $near}) { edges { node { id location { latitude longitude address } } } } }`,
		map[string]any{"near": map[string]any{"latitude": 45.0705, "longitude": 7.6860, "radiusMeters": 500}}, &got)
	if len(got.Tickets.Edges) != 1 || got.Tickets.Edges[0].Node.ID != nearID {
		t.Fatalf("500 m around the square: %+v, want the street lamp only", got.Tickets.Edges)
	}
	loc := got.Tickets.Edges[0].Node.Location
	if loc.Latitude == nil || *loc.Latitude != 45.0712 || loc.Address == nil || *loc.Address != "Piazza Castello" {
		t.Fatalf("location read back as %+v", loc)
	}

	half := ticketInput("REPORT", "Solo latitudine")
	half["location"] = map[string]any{"latitude": 45.07}
	s.fails(citizen, `mutation($in: SubmitTicketInput!) { submitTicket(input: $in) { protocolNumber } }`,
		map[string]any{"in": half}, sportello.CodeBadUserInput, "location.longitude")
	off := ticketInput("REPORT", "Fuori dal mondo")
	off["location"] = map[string]any{"latitude": 95, "longitude": 7}
	s.fails(citizen, `mutation($in: SubmitTicketInput!) { submitTicket(input: $in) { protocolNumber } }`,
		map[string]any{"in": off}, sportello.CodeBadUserInput, "location.latitude")
	s.fails(operator, `{ tickets(filter: {near: {latitude: 45, longitude: 7, radiusMeters: 0}}) { edges { cursor } } }`,
		nil, sportello.CodeBadUserInput, "filter.near.radiusMeters")
	if n := s.count(`SELECT count(*) FROM tickets`); n != 3 {
		t.Fatalf("%d tickets stored, want 3: refused filings write nothing", n)
	}
}

func TestCitizenAppListsNotificationsAndHearsOfNewOnesLive(t *testing.T) {
	s := startServer(t)
	alice := s.token(sportello.RoleCitizen, "alice")
	bob := s.token(sportello.RoleCitizen, "bob")
	var me struct{ Me struct{ ID string } }
	s.ok(alice, `{ me { id } }`, nil, &me)
	var bobMe struct{ Me struct{ ID string } }
	s.ok(bob, `{ me { id } }`, nil, &bobMe)

	ws := dialWS(t, s.URL, alice)
	ws.subscribe("n", `subscription { notificationAdded { cursor notification { id kind title link } } }`, nil)
	time.Sleep(200 * time.Millisecond)
	// What a service does in its transaction when it notifies: the row and its topic event.
	for _, who := range []string{bobMe.Me.ID, me.Me.ID} {
		if _, err := s.DB.Exec(`WITH n AS (INSERT INTO notifications (tenant_id, citizen_id, kind, title, link, created_at)
			VALUES ($1, $2, 'OPPORTUNITY_ALERT', 'Tirocinio in biblioteca', '/opportunita/1', now()) RETURNING id, created_at)
			INSERT INTO events (tenant_id, topic, subject_id, citizen_id, type, actor_kind, at, data)
			SELECT $1, 'notification', n.id, $2, 'notification', 'SYSTEM', n.created_at,
				jsonb_build_object('id', n.id, 'kind', 'OPPORTUNITY_ALERT', 'title', 'Tirocinio in biblioteca',
					'link', '/opportunita/1', 'createdAt', n.created_at) FROM n`, sportello.DefaultTenantID, who); err != nil {
			t.Fatal(err)
		}
	}
	m := ws.read(10 * time.Second)
	var payload struct {
		Data struct {
			NotificationAdded struct {
				Cursor       string
				Notification struct{ ID, Kind, Title, Link string }
			}
		}
	}
	if err := json.Unmarshal(m.Payload, &payload); err != nil || m.Type != "next" {
		t.Fatalf("got %s %s", m.Type, m.Payload)
	}
	live := payload.Data.NotificationAdded
	if live.Notification.Title != "Tirocinio in biblioteca" || live.Cursor == "" {
		t.Fatalf("live notification %+v", live)
	}
	if m, err := ws.tryRead(700 * time.Millisecond); err == nil {
		t.Fatalf("alice also received %s %s: bob's notification leaked", m.Type, m.Payload)
	}

	var list struct {
		Notifications struct {
			Edges []struct{ Node struct{ ID, Title string } }
		}
		UnreadNotificationCount int
	}
	s.ok(alice, `{ notifications(first: 10) { edges { node { id title } } } unreadNotificationCount }`, nil, &list)
	if len(list.Notifications.Edges) != 1 || list.Notifications.Edges[0].Node.ID != live.Notification.ID || list.UnreadNotificationCount != 1 {
		t.Fatalf("alice's list: %+v", list)
	}
	var marked struct{ MarkNotificationsRead int }
	s.ok(alice, `mutation($ids: [ID!]) { markNotificationsRead(ids: $ids) }`, map[string]any{"ids": []string{live.Notification.ID}}, &marked)
	if marked.MarkNotificationsRead != 1 {
		t.Fatalf("marked %d", marked.MarkNotificationsRead)
	}
	s.fails(s.token(sportello.RoleOperator, "op"), `{ unreadNotificationCount }`, nil, sportello.CodeForbidden, "")
}

package db_test

import (
	"context"
	"reflect"
	"testing"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/db/dbtest"
)

// wantRelations checks that every ticket carries the citizen and office the loaders' services
// return for its ids, in the caller's scope.
func wantRelations(t *testing.T, ctx context.Context, d *db.DB, tickets []*sportello.Ticket) {
	t.Helper()
	var citizenIDs, officeIDs []string
	for _, tk := range tickets {
		citizenIDs = append(citizenIDs, tk.CitizenID)
		officeIDs = append(officeIDs, tk.OfficeID)
	}
	citizens, err := db.NewCitizenService(d).CitizensByID(ctx, citizenIDs)
	if err != nil {
		t.Fatal(err)
	}
	offices, err := db.NewOfficeService(d).OfficesByID(ctx, officeIDs)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range tickets {
		if want := citizens[tk.CitizenID]; !reflect.DeepEqual(tk.Citizen, want) {
			t.Errorf("ticket %s: citizen %+v, want %+v", tk.Protocol, tk.Citizen, want)
		}
		if want := offices[tk.OfficeID]; !reflect.DeepEqual(tk.Office, want) {
			t.Errorf("ticket %s: office %+v, want %+v", tk.Protocol, tk.Office, want)
		}
	}
}

func TestTicketsWithRelationsCarryWhatTheLoadersWouldLoad(t *testing.T) {
	d := dbtest.New(t)
	s := db.NewTicketService(d)
	var officeID string
	if err := d.Get(&officeID, `INSERT INTO offices (tenant_id, name) VALUES ($1, 'Tributi') RETURNING id`, sportello.DefaultTenantID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(`INSERT INTO office_hours (office_id, weekday, opens, closes) VALUES ($1, 1, '09:00', '12:30'), ($1, 3, '15:00', '17:00')`, officeID); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"alice", "alice", "bob"} {
		sub := submit(t, s, citizenCtx(who), sportello.KindInformation)
		if _, err := s.AssignTicket(operatorCtx("op"), sportello.AssignTicketInput{TicketID: sub.Ticket.ID, OfficeID: officeID}); err != nil {
			t.Fatal(err)
		}
	}
	submit(t, s, anonymousCtx(), sportello.KindReport) // no citizen, no office
	all := sportello.TicketRelations{Citizen: true, Office: true, OfficeHours: true}

	for _, tc := range []struct {
		name    string
		ctx     context.Context
		tickets int
	}{
		{"staff", operatorCtx("op"), 4},
		{"a citizen", citizenCtx("alice"), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plain, err := s.Tickets(tc.ctx, sportello.TicketFilter{}, sportello.Page{First: 3})
			if err != nil {
				t.Fatal(err)
			}
			with, err := s.TicketsWith(tc.ctx, sportello.TicketFilter{}, sportello.Page{First: 3}, all)
			if err != nil {
				t.Fatal(err)
			}
			if len(with.Tickets) != min(tc.tickets, 3) || with.HasNextPage != (tc.tickets > 3) ||
				!reflect.DeepEqual(with.Cursors, plain.Cursors) || with.HasNextPage != plain.HasNextPage {
				t.Fatalf("page with relations: %d tickets, next %v, cursors %q; without: %d, next %v, cursors %q",
					len(with.Tickets), with.HasNextPage, with.Cursors, len(plain.Tickets), plain.HasNextPage, plain.Cursors)
			}
			for i, tk := range with.Tickets {
				bare := *tk
				bare.Citizen, bare.Office = nil, nil
				if !reflect.DeepEqual(&bare, plain.Tickets[i]) {
					t.Errorf("ticket %d with relations is %+v, without %+v", i, bare, plain.Tickets[i])
				}
			}
			wantRelations(t, tc.ctx, d, with.Tickets)
			// Without its hours, a ticket's office is the same office with none.
			brief, err := s.TicketsWith(tc.ctx, sportello.TicketFilter{}, sportello.Page{First: 3}, sportello.TicketRelations{Office: true})
			if err != nil {
				t.Fatal(err)
			}
			for i, tk := range brief.Tickets {
				got, want := tk.Office, with.Tickets[i].Office
				if got == nil || want == nil {
					if got != want {
						t.Errorf("ticket %d: office without hours %+v, want %+v", i, got, want)
					}
					continue
				}
				g, w := *got, *want
				if len(g.Hours) != 0 || len(w.Hours) == 0 {
					t.Errorf("ticket %d: hours %v without them, %v with them", i, g.Hours, w.Hours)
				}
				g.Hours, w.Hours = nil, nil
				if !reflect.DeepEqual(g, w) {
					t.Errorf("ticket %d: office without hours %+v, want %+v", i, g, w)
				}
			}
			for _, tk := range with.Tickets {
				one, err := s.TicketWith(tc.ctx, tk.ID, all)
				if err != nil {
					t.Fatal(err)
				}
				wantRelations(t, tc.ctx, d, []*sportello.Ticket{one})
			}
		})
	}
}

func TestTicketWithRelationsIsNotFoundOutsideTheCallersScope(t *testing.T) {
	d := dbtest.New(t)
	s := db.NewTicketService(d)
	mine := submit(t, s, citizenCtx("alice"), sportello.KindInformation)
	all := sportello.TicketRelations{Citizen: true, Office: true, OfficeHours: true}
	for _, tc := range []struct {
		name string
		ctx  context.Context
		id   string
	}{
		{"another citizen", citizenCtx("bob"), mine.Ticket.ID},
		{"an anonymous caller", anonymousCtx(), mine.Ticket.ID},
		{"an id that is not one", operatorCtx("op"), "nope"},
		{"no such ticket", operatorCtx("op"), "00000000-0000-0000-0000-00000000dead"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.TicketWith(tc.ctx, tc.id, all)
			wantCode(t, err, sportello.CodeNotFound)
		})
	}
}

// briefOf is what a brief read (sportello.TicketRelations.Brief and the rest) keeps of a ticket
// read in full: the fields that lists show and that order and audit them.
func briefOf(full *sportello.Ticket, body bool) *sportello.Ticket {
	b := &sportello.Ticket{ID: full.ID, TenantID: full.TenantID, Protocol: full.Protocol, Kind: full.Kind,
		Status: full.Status, Subject: full.Subject, CitizenID: full.CitizenID, OfficeID: full.OfficeID,
		CreatedAt: full.CreatedAt, DueAt: full.DueAt, Priority: full.Priority}
	if body {
		b.Body = full.Body
	}
	if c := full.Citizen; c != nil {
		b.Citizen = &sportello.Citizen{ID: c.ID, GivenName: c.GivenName, FamilyName: c.FamilyName, FiscalCode: c.FiscalCode}
	}
	if o := full.Office; o != nil {
		b.Office = &sportello.Office{ID: o.ID, Name: o.Name, Hours: []sportello.OpeningSlot{}}
	}
	return b
}

// A brief read returns of each ticket, its citizen and its office exactly what a full read
// returns of their brief fields, and nothing else; the page and its cursors are the same.
func TestBriefReadsKeepTheBriefFieldsOfFullReads(t *testing.T) {
	d := dbtest.New(t)
	s := db.NewTicketService(d)
	var officeID string
	if err := d.Get(&officeID, `INSERT INTO offices (tenant_id, name, description, email, phone, address, head)
		VALUES ($1, 'Tributi', 'Tasse e tributi locali', 'tributi@comune.it', '06 123', 'Via Roma 1', 'Dott.ssa Neri') RETURNING id`,
		sportello.DefaultTenantID); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"alice", "bob"} {
		sub := submit(t, s, citizenCtx(who), sportello.KindComplaint)
		if _, err := s.AssignTicket(operatorCtx("op"), sportello.AssignTicketInput{TicketID: sub.Ticket.ID, OfficeID: officeID}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SubmitTicket(anonymousCtx(), sportello.SubmitTicketInput{Kind: sportello.KindReport, Subject: "Lampione spento",
		Body: "Il lampione di via Verdi è spento da una settimana.", Contact: &sportello.Contact{Name: "Paolo", Email: "paolo@example.it"},
		Location: &sportello.Location{Latitude: 41.9, Longitude: 12.5, Address: "Via Verdi 3"}}); err != nil {
		t.Fatal(err)
	}
	all := sportello.TicketRelations{Citizen: true, Office: true}
	for _, tc := range []struct {
		name string
		ctx  context.Context
	}{{"staff", operatorCtx("op")}, {"a citizen", citizenCtx("alice")}} {
		for _, body := range []bool{false, true} {
			brief := sportello.TicketRelations{Citizen: true, Office: true, Brief: true, BriefBody: body, BriefCitizen: true, BriefOffice: true}
			full, err := s.TicketsWith(tc.ctx, sportello.TicketFilter{}, sportello.Page{First: 2}, all)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.TicketsWith(tc.ctx, sportello.TicketFilter{}, sportello.Page{First: 2}, brief)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Tickets) != len(full.Tickets) || !reflect.DeepEqual(got.Cursors, full.Cursors) || got.HasNextPage != full.HasNextPage {
				t.Fatalf("%s: brief page %d tickets, cursors %q, next %v; full %d, %q, %v", tc.name, len(got.Tickets), got.Cursors,
					got.HasNextPage, len(full.Tickets), full.Cursors, full.HasNextPage)
			}
			for i, tk := range got.Tickets {
				if want := briefOf(full.Tickets[i], body); !reflect.DeepEqual(tk, want) {
					t.Errorf("%s, body %v: ticket %d is %+v, want %+v", tc.name, body, i, tk, want)
				}
				one, err := s.TicketWith(tc.ctx, tk.ID, brief)
				if err != nil {
					t.Fatal(err)
				}
				if want := briefOf(full.Tickets[i], body); !reflect.DeepEqual(one, want) {
					t.Errorf("%s, body %v: ticket %s by id is %+v, want %+v", tc.name, body, tk.ID, one, want)
				}
			}
		}
	}
}

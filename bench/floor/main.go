// Command floor is the benchmark's floor: a minimal net/http server that answers the
// benchmark's workloads with the same SQL as Sportello (it calls the same db services) and
// writes the same JSON as the GraphQL responses, without GraphQL. The difference between its
// throughput and the server's is what the GraphQL layer costs; the floor itself is the cost of
// the data, HTTP, token checks and JSON.
//
// It authenticates development tokens as the server does, and serves the default tenant only.
//
//	floor -listen 127.0.0.1:8091    # DATABASE_URL names the database
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/server/auth"
)

// devSecret is the server's development secret, used when AUTH_DEV_SECRET is not set.
const devSecret = "sportello-development-secret-do-not-use-in-production"

func main() {
	log.SetFlags(0)
	log.SetPrefix("floor: ")
	listen := flag.String("listen", "127.0.0.1:8091", "address to serve on")
	flag.Parse()
	ctx := context.Background()
	d, err := db.Open(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	secret := os.Getenv("AUTH_DEV_SECRET")
	if secret == "" {
		secret = devSecret
	}
	v, err := auth.NewVerifier(auth.Config{DevSecret: secret})
	if err != nil {
		log.Fatal(err)
	}
	f := &floor{verifier: v, tickets: db.NewTicketService(d), search: db.NewSearchService(d)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ticket", f.handle(f.ticket))
	mux.HandleFunc("GET /tickets", f.handle(f.list))
	mux.HandleFunc("GET /search", f.handle(f.searchHits))
	mux.HandleFunc("POST /submit", f.handle(f.submit))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	log.Fatal((&http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}).ListenAndServe())
}

type floor struct {
	verifier *auth.Verifier
	tickets  *db.TicketService
	search   *db.SearchService
}

// handle authenticates the caller, runs fn and writes {"data": …} as GraphQL would, or
// {"errors": […]} with the error's code.
func (f *floor) handle(fn func(ctx context.Context, r *http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user := &sportello.User{TenantID: sportello.DefaultTenantID}
		if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			c, err := f.verifier.Verify(r.Context(), token)
			if err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
			user = &sportello.User{TenantID: sportello.DefaultTenantID, Subject: c.Subject, Roles: c.Roles,
				GivenName: c.GivenName, FamilyName: c.FamilyName, FiscalCode: c.FiscalCode, Email: c.Email}
		}
		data, err := fn(sportello.WithUser(r.Context(), user), r)
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{"message": err.Error(),
				"extensions": map[string]any{"code": sportello.ErrorCode(err)}}}})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"data": data})
	}
}

type ticketJSON struct {
	ID             string         `json:"id"`
	ProtocolNumber string         `json:"protocolNumber"`
	Kind           string         `json:"kind,omitempty"`
	Status         string         `json:"status"`
	Subject        string         `json:"subject,omitempty"`
	Body           string         `json:"body,omitempty"`
	CreatedAt      time.Time      `json:"createdAt"`
	DueAt          time.Time      `json:"dueAt"`
	Citizen        *citizenJSON   `json:"citizen,omitempty"`
	Office         *officeJSON    `json:"office"`
	Messages       *[]messageJSON `json:"messages,omitempty"`
}

type citizenJSON struct {
	FullName   string  `json:"fullName"`
	FiscalCode *string `json:"fiscalCode"`
}

type officeJSON struct {
	Name string `json:"name"`
}

type messageJSON struct {
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"createdAt"`
}

// ticketOf is the ticket's JSON with the citizen and office that its read returned with it, and
// its times at Rome's offset, as the server writes them.
func ticketOf(t *sportello.Ticket) ticketJSON {
	out := ticketJSON{ID: t.ID, ProtocolNumber: t.Protocol.String(), Kind: string(t.Kind), Status: string(t.Status),
		Subject: t.Subject, CreatedAt: t.CreatedAt.In(sportello.Rome), DueAt: t.DueAt.In(sportello.Rome)}
	if c := t.Citizen; c != nil {
		out.Citizen = &citizenJSON{FullName: c.FullName()}
		if c.FiscalCode != "" {
			out.Citizen.FiscalCode = &c.FiscalCode
		}
	}
	if o := t.Office; o != nil {
		out.Office = &officeJSON{Name: o.Name}
	}
	return out
}

// The relations each workload's GraphQL query makes the server read with its tickets, in the
// same statement (graph/lookahead.go): the floor reads them the same way, so that both run the
// same SQL. The ticket by id asks for the body too; the citizen's own list only for the office.
var (
	ticketRelations = sportello.TicketRelations{Citizen: true, Office: true, Brief: true, BriefBody: true,
		BriefCitizen: true, BriefOffice: true}
	queueRelations = sportello.TicketRelations{Citizen: true, Office: true, Brief: true, BriefCitizen: true, BriefOffice: true}
	ownRelations   = sportello.TicketRelations{Office: true, Brief: true, BriefOffice: true}
)

// ticket is the workload "ticket by id": the ticket with its citizen and office.
func (f *floor) ticket(ctx context.Context, r *http.Request) (any, error) {
	t, err := f.tickets.TicketWith(ctx, r.URL.Query().Get("id"), ticketRelations)
	if err != nil {
		return nil, err
	}
	out := ticketOf(t)
	out.Body = t.Body
	return map[string]any{"ticket": out}, nil
}

// list is the workloads "operator list" (with=messages: citizen, office and messages) and
// "citizen's own list" (office only), filtered by ?status= and ?office=.
func (f *floor) list(ctx context.Context, r *http.Request) (any, error) {
	q := r.URL.Query()
	var filter sportello.TicketFilter
	if s := q.Get("status"); s != "" {
		filter.Statuses = []sportello.Status{sportello.Status(s)}
	}
	if o := q.Get("office"); o != "" {
		filter.OfficeIDs = []string{o}
	}
	messages := q.Get("with") == "messages"
	with := ownRelations
	if messages {
		with = queueRelations
	}
	p, err := f.tickets.TicketsWith(ctx, filter, sportello.Page{First: 20}, with)
	if err != nil {
		return nil, err
	}
	type edge struct {
		Node *ticketJSON `json:"node"`
	}
	edges := make([]edge, len(p.Tickets))
	nodes := make([]*ticketJSON, len(p.Tickets))
	for i, t := range p.Tickets {
		n := ticketOf(t)
		nodes[i], edges[i] = &n, edge{&n}
	}
	if messages {
		if err := f.messages(ctx, p.Tickets, nodes); err != nil {
			return nil, err
		}
	}
	var end *string
	if n := len(p.Cursors); n > 0 {
		end = &p.Cursors[n-1]
	}
	return map[string]any{"tickets": map[string]any{"edges": edges,
		"pageInfo": map[string]any{"hasNextPage": p.HasNextPage, "endCursor": end}}}, nil
}

// messages loads the messages of tickets in one query, as the server does for a page that asks
// for them, and sets them on out.
func (f *floor) messages(ctx context.Context, ts []*sportello.Ticket, out []*ticketJSON) error {
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	msgs, err := f.tickets.MessagesByTicket(ctx, ids)
	if err != nil {
		return err
	}
	for i, t := range ts {
		ms := make([]messageJSON, len(msgs[t.ID]))
		for j, m := range msgs[t.ID] {
			ms[j] = messageJSON{Body: m.Body, CreatedAt: m.CreatedAt.In(sportello.Rome)}
		}
		out[i].Messages = &ms
	}
	return nil
}

// searchHits is the workload "catalogue search".
func (f *floor) searchHits(ctx context.Context, r *http.Request) (any, error) {
	hits, err := f.search.Search(ctx, sportello.SearchInput{Query: r.URL.Query().Get("q"), First: 10})
	if err != nil {
		return nil, err
	}
	type hitJSON struct {
		Type    string  `json:"type"`
		ID      string  `json:"id"`
		Title   string  `json:"title"`
		Snippet string  `json:"snippet"`
		Score   float64 `json:"score"`
	}
	out := make([]hitJSON, len(hits))
	for i, h := range hits {
		out[i] = hitJSON{Type: string(h.Type), ID: h.ID, Title: h.Title, Snippet: h.Snippet, Score: h.Score}
	}
	return map[string]any{"search": out}, nil
}

// submit is the workload submitTicket: the body is the mutation's input.
func (f *floor) submit(ctx context.Context, r *http.Request) (any, error) {
	var in struct {
		Kind     sportello.Kind    `json:"kind"`
		Channel  sportello.Channel `json:"channel"`
		Subject  string            `json:"subject"`
		Body     string            `json:"body"`
		OfficeID string            `json:"officeId"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return nil, errors.Join(sportello.InvalidField("input", "is not JSON"), err)
	}
	sub, err := f.tickets.SubmitTicket(ctx, sportello.SubmitTicketInput{Kind: in.Kind, Channel: in.Channel,
		Subject: in.Subject, Body: in.Body, OfficeID: in.OfficeID})
	if err != nil {
		return nil, err
	}
	t := sub.Ticket
	return map[string]any{"submitTicket": map[string]any{"protocolNumber": t.Protocol.String(),
		"ticket": map[string]any{"id": t.ID, "status": t.Status, "createdAt": t.CreatedAt, "dueAt": t.DueAt}}}, nil
}

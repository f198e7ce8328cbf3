package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/db/dbtest"
	"github.com/sportello/sportello/graph"
)

// parallelism multiplies GOMAXPROCS to give the number of clients of the parallel benchmarks.
// The requests spend most of their time waiting for PostgreSQL, so GOMAXPROCS clients alone
// would leave the server idle on a small machine and understate what it sustains.
const parallelism = 4

// benchKinds are the kinds filed with a subject and a body alone. A request for access to
// records also needs its details, which these benchmarks of the common path leave out.
var benchKinds = slices.DeleteFunc(slices.Clone(sportello.Kinds), func(k sportello.Kind) bool {
	return k == sportello.KindRecordsAccess
})

// ---------------------------------------------------------------------------------------------
// BenchmarkSubmitTicket

const submitMutation = `mutation Submit($input: SubmitTicketInput!) {
  submitTicket(input: $input) {
    protocolNumber
    receiptCode
    ticket { id status createdAt dueAt }
  }
}`

type submitData struct {
	SubmitTicket struct {
		ProtocolNumber string  `json:"protocolNumber"`
		ReceiptCode    *string `json:"receiptCode"`
		Ticket         struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"ticket"`
	} `json:"submitTicket"`
}

// submitCitizens is how many citizens file tickets in turn in BenchmarkSubmitTicket.
const submitCitizens = 16

func BenchmarkSubmitTicket(b *testing.B) {
	d, counter := dbtest.NewCounting(b)
	ctx := context.Background()
	if err := db.SeedDemo(ctx, d); err != nil {
		b.Fatalf("seed: %v", err)
	}
	offices := officeIDs(b, d)

	users := make(map[string]*sportello.User, submitCitizens)
	tokens := make([]string, submitCitizens)
	bodies := make([][]byte, submitCitizens)
	for i := range submitCitizens {
		u := citizenUser("submit", i)
		tokens[i] = "token-" + u.Subject
		users[tokens[i]] = u
		t := ticketTexts[i%len(ticketTexts)]
		bodies[i] = gqlRequest(b, submitMutation, map[string]any{"input": map[string]any{
			"kind":     benchKinds[i%len(benchKinds)],
			"channel":  sportello.ChannelApp,
			"subject":  t.subject,
			"body":     t.body,
			"officeId": offices[i%len(offices)],
		}})
	}
	client := newServer(b, d, users)

	// The first filing of each citizen creates their profile from the token; the benchmark
	// measures the steady state, in which the profile exists.
	for i := range submitCitizens {
		var got submitData
		client.query(b, tokens[i], bodies[i], &got)
		s := got.SubmitTicket
		if s.ProtocolNumber == "" || s.Ticket.ID == "" || s.Ticket.Status != string(sportello.StatusSubmitted) || s.ReceiptCode != nil {
			b.Fatalf("unexpected submitTicket payload: %+v", s)
		}
	}

	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		counter.Reset()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			k := i % submitCitizens
			if _, err := client.do(tokens[k], bodies[k]); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		reportRates(b, counter)
	})

	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(parallelism)
		var next atomic.Int64
		counter.Reset()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				k := int(next.Add(1) % submitCitizens)
				if _, err := client.do(tokens[k], bodies[k]); err != nil {
					b.Error(err) // Fatal may not be called from RunParallel's goroutines
					return
				}
			}
		})
		b.StopTimer()
		if !b.Failed() {
			reportRates(b, counter)
		}
	})
}

// ---------------------------------------------------------------------------------------------
// BenchmarkTicketList50

const (
	listTickets  = 1000 // tickets filed before the list benchmarks run
	listCitizens = 100  // citizens who filed them
	listPage     = 50
)

const listQuery = `query List {
  tickets(first: 50) {
    edges { node { id protocolNumber subject status dueAt overdue
      citizen { fullName fiscalCode }
      office { name } } }
  }
}`

const listWithMessagesQuery = `query ListWithMessages {
  tickets(first: 50) {
    edges { node { id protocolNumber subject status dueAt overdue
      citizen { fullName fiscalCode }
      office { name }
      messages { body } } }
  }
}`

type listData struct {
	Tickets struct {
		Edges []struct {
			Node struct {
				ID             string `json:"id"`
				ProtocolNumber string `json:"protocolNumber"`
				Status         string `json:"status"`
				Citizen        *struct {
					FullName   string  `json:"fullName"`
					FiscalCode *string `json:"fiscalCode"`
				} `json:"citizen"`
				Office *struct {
					Name string `json:"name"`
				} `json:"office"`
				Messages []struct {
					Body string `json:"body"`
				} `json:"messages"`
			} `json:"node"`
		} `json:"edges"`
	} `json:"tickets"`
}

func BenchmarkTicketList50(b *testing.B) {
	d, counter := dbtest.NewCounting(b)
	start := time.Now()
	seedTickets(b, d)
	b.Logf("seeded %d tickets of %d citizens in %v", listTickets, listCitizens, time.Since(start).Round(time.Millisecond))

	operator := db.DemoOperator
	const token = "token-operator"
	client := newServer(b, d, map[string]*sportello.User{token: &operator})
	plain := gqlRequest(b, listQuery, nil)
	withMessages := gqlRequest(b, listWithMessagesQuery, nil)

	// Check once, in depth, that the queries return what the benchmarks claim to measure.
	var got listData
	client.query(b, token, plain, &got)
	checkPage(b, &got, false)
	got = listData{}
	client.query(b, token, withMessages, &got)
	checkPage(b, &got, true)

	graphqlBench := func(body []byte) func(b *testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			counter.Reset()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := client.do(token, body); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			reportRates(b, counter)
		}
	}
	b.Run("graphql", graphqlBench(plain))
	b.Run("graphql_messages", graphqlBench(withMessages))

	// The same page from the service, without HTTP, GraphQL or the relations: the difference
	// is what the transport and the nested fields cost.
	b.Run("service", func(b *testing.B) {
		svc := db.NewTicketService(d)
		ctx := sportello.WithUser(context.Background(), &operator)
		b.ReportAllocs()
		counter.Reset()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			p, err := svc.Tickets(ctx, sportello.TicketFilter{}, sportello.Page{First: listPage})
			if err != nil {
				b.Fatal(err)
			}
			if len(p.Tickets) != listPage {
				b.Fatalf("got %d tickets, want %d", len(p.Tickets), listPage)
			}
		}
		b.StopTimer()
		reportRates(b, counter)
	})
}

// checkPage fails the benchmark unless the page is full and its relations resolved.
func checkPage(b *testing.B, got *listData, messages bool) {
	b.Helper()
	edges := got.Tickets.Edges
	if len(edges) != listPage {
		b.Fatalf("got %d tickets, want %d", len(edges), listPage)
	}
	withOffice, nMessages := 0, 0
	for _, e := range edges {
		n := e.Node
		if n.ID == "" || n.ProtocolNumber == "" || n.Status == "" {
			b.Fatalf("incomplete ticket: %+v", n)
		}
		if n.Citizen == nil || n.Citizen.FullName == "" || n.Citizen.FiscalCode == nil {
			b.Fatalf("ticket %s: citizen not resolved: %+v", n.ProtocolNumber, n.Citizen)
		}
		if n.Office != nil {
			withOffice++
		}
		nMessages += len(n.Messages)
	}
	if withOffice == 0 {
		b.Fatalf("no ticket of the page has its office resolved")
	}
	if messages && nMessages == 0 {
		b.Fatalf("no ticket of the page has messages")
	}
}

// seedTickets loads the demo offices and files listTickets tickets of listCitizens citizens
// through the services, spread over the last 60 days (so the older open ones are overdue), with
// a realistic mix of histories: a quarter left untouched, the others taken in charge and
// answered, some waiting for and answered by the citizen, some resolved.
func seedTickets(b *testing.B, d *db.DB) {
	b.Helper()
	ctx := context.Background()
	// The services read the office's clock; a fake one dates the tickets in the past. The
	// demo's own tickets come first, so that the newest page holds only the benchmark's.
	clock := time.Now().Add(-61 * 24 * time.Hour)
	step := 60 * 24 * time.Hour / listTickets
	d.Now = func() time.Time { return clock }
	defer func() { d.Now = time.Now }()
	tick := func() { clock = clock.Add(time.Minute) }

	if err := db.SeedDemo(ctx, d); err != nil {
		b.Fatalf("seed: %v", err)
	}
	offices := officeIDs(b, d)
	svc := db.NewTicketService(d)
	operatorCtx := sportello.WithUser(ctx, &db.DemoOperator)
	citizenCtxs := make([]context.Context, listCitizens)
	for i := range citizenCtxs {
		citizenCtxs[i] = sportello.WithUser(ctx, citizenUser("list", i))
	}

	check := func(what string, err error) {
		b.Helper()
		if err != nil {
			b.Fatalf("seed: %s: %v", what, err)
		}
	}
	for i := range listTickets {
		clock = clock.Add(step)
		citizenCtx := citizenCtxs[i%listCitizens]
		t := ticketTexts[i%len(ticketTexts)]
		in := sportello.SubmitTicketInput{Kind: benchKinds[i%len(benchKinds)], Subject: t.subject, Body: t.body,
			Channel: []sportello.Channel{sportello.ChannelWeb, sportello.ChannelApp}[i%2]}
		if i%5 != 4 { // a fifth of the filers do not know which office is concerned
			in.OfficeID = offices[i%len(offices)]
		}
		sub, err := svc.SubmitTicket(citizenCtx, in)
		check("submit", err)
		if i%4 == 0 {
			continue
		}
		id := sub.Ticket.ID
		move := func(ctx context.Context, to sportello.Status) {
			tick()
			_, err := svc.TransitionTicket(ctx, sportello.TransitionTicketInput{TicketID: id, To: to})
			check("transition to "+string(to), err)
		}
		post := func(ctx context.Context, body string) {
			tick()
			_, err := svc.PostMessage(ctx, sportello.PostMessageInput{TicketID: id, Body: body})
			check("post message", err)
		}
		move(operatorCtx, sportello.StatusInProgress)
		post(operatorCtx, "Gentile cittadino, abbiamo preso in carico la sua richiesta e la inoltriamo all'ufficio competente.")
		switch i % 4 {
		case 2:
			move(operatorCtx, sportello.StatusWaitingForCitizen)
			// The citizen's answer puts the ticket back in progress.
			post(citizenCtx, "Grazie, allego le informazioni richieste: il problema si presenta ogni mattina dopo le 8.")
		case 3:
			move(operatorCtx, sportello.StatusResolved)
		}
	}
	// Autovacuum would analyze the tables a minute from now; without statistics the planner
	// takes the 1,000 tickets for a handful and sorts them all instead of reading the list
	// index in order, which is not what a live database does.
	if _, err := d.ExecContext(ctx, `ANALYZE`); err != nil {
		b.Fatalf("seed: analyze: %v", err)
	}
}

// ---------------------------------------------------------------------------------------------
// Server and client

// newServer serves the real GraphQL handler over the services on d, behind a middleware that
// does what the server's authenticate and perRequest do, and returns a client of it. users maps
// bearer tokens to the callers they stand for.
func newServer(b *testing.B, d *db.DB, users map[string]*sportello.User) *gqlClient {
	b.Helper()
	res := &graph.Resolver{
		TicketService:  db.NewTicketService(d),
		CitizenService: db.NewCitizenService(d),
		OfficeService:  db.NewOfficeService(d),
		HoursService:   db.NewHoursService(d),
		Now:            d.Now,

		CatalogueService:     db.NewCatalogueService(d),
		SearchService:        db.NewSearchService(d),
		RecordsAccessService: db.NewRecordsAccessService(d),
		AppointmentService:   db.NewAppointmentService(d),
		TriageService:        db.NewTriageService(d),
		AttachmentService:    db.NewAttachmentService(d),
		ContentService:       db.NewContentService(d),
		CampaignService:      db.NewCampaignService(d),
		PrivacyService:       db.NewPrivacyService(d),
		Open311Service:       db.NewOpen311Service(d),
		YouthService:         db.NewYouthService(d),
		FeedbackService:      db.NewFeedbackService(d),
		SurveyService:        db.NewSurveyService(d),
		StatisticsService:    db.NewStatisticsService(d),
		NotificationService:  db.NewNotificationService(d),

		NotificationPreferenceService: db.NewNotificationPreferenceService(d),
	}
	h := graph.NewHandler(res, graph.Options{ComplexityLimit: 5000})
	srv := httptest.NewServer(authenticate(users, perRequest(res, h)))
	b.Cleanup(srv.Close)
	transport := &http.Transport{
		// Enough idle connections that every parallel client keeps its own: otherwise the
		// benchmark would measure TCP connection set-up.
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     time.Minute,
	}
	b.Cleanup(transport.CloseIdleConnections)
	return &gqlClient{url: srv.URL + "/graphql", http: &http.Client{Transport: transport, Timeout: time.Minute}}
}

// authenticate is server/http.go's App.authenticate without the JWT verification and the
// tenant lookup: the bearer token is only the key of a fixed *sportello.User. Verifying a token
// costs microseconds (an HS256 MAC or a signature check against cached keys, and a cached
// tenant lookup) and is server/auth's concern, covered by its tests; leaving it out keeps these
// benchmarks about the GraphQL layer and the database.
func authenticate(users map[string]*sportello.User, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		user := users[token]
		if !ok || user == nil {
			http.Error(w, "unknown token", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r.WithContext(sportello.WithUser(r.Context(), user)))
	})
}

// perRequest is server/http.go's App.perRequest: receipt grants and fresh dataloaders for every
// request, with the server's default batching wait.
func perRequest(res *graph.Resolver, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := sportello.WithReceiptGrants(r.Context())
		ctx = graph.WithLoaders(ctx, graph.NewLoaders(res, graph.DefaultLoaderWait))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// gqlClient posts GraphQL requests over one shared transport.
type gqlClient struct {
	url  string
	http *http.Client
}

type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// gqlRequest encodes a GraphQL request body.
func gqlRequest(b *testing.B, query string, variables map[string]any) []byte {
	b.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": variables})
	if err != nil {
		b.Fatalf("encode request: %v", err)
	}
	return body
}

// do posts body as the caller of token and returns the response's data. Any GraphQL error, an
// HTTP status other than 200 or a response without data is an error: a benchmark of error
// responses would measure nothing of interest.
func (c *gqlClient) do(token string, body []byte) (json.RawMessage, error) {
	req, err := http.NewRequest(http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body) // read to the end, so the connection is reused
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s: %s", resp.Status, bytes.TrimSpace(raw))
	}
	var out gqlResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("decode response: %w: %s", err, raw)
	}
	if len(out.Errors) > 0 {
		msgs := make([]string, len(out.Errors))
		for i, e := range out.Errors {
			msgs[i] = fmt.Sprintf("%s (code %v, path %v)", e.Message, e.Extensions["code"], e.Path)
		}
		return nil, errors.New("GraphQL errors: " + strings.Join(msgs, "; "))
	}
	if len(out.Data) == 0 || string(out.Data) == "null" {
		return nil, fmt.Errorf("response without data: %s", raw)
	}
	return out.Data, nil
}

// query is do for set-up code: it fails the benchmark on error and decodes the data into v.
func (c *gqlClient) query(b *testing.B, token string, body []byte, v any) {
	b.Helper()
	data, err := c.do(token, body)
	if err != nil {
		b.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		b.Fatalf("decode data: %v: %s", err, data)
	}
}

// reportRates reports throughput and the SQL statements run per operation since the counter
// was last reset. Call it with the timer stopped.
func reportRates(b *testing.B, counter *dbtest.Counter) {
	b.Helper()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	b.ReportMetric(float64(counter.Count())/float64(b.N), "stmts/op")
}

// ---------------------------------------------------------------------------------------------
// Data

// officeIDs returns the ids of the default tenant's offices, by name.
func officeIDs(b *testing.B, d *db.DB) []string {
	b.Helper()
	var ids []string
	if err := d.SelectContext(db.AllTenants(context.Background()), &ids, `SELECT id FROM offices WHERE tenant_id = $1 ORDER BY name`,
		sportello.DefaultTenantID); err != nil {
		b.Fatalf("list offices: %v", err)
	}
	if len(ids) == 0 {
		b.Fatal("no offices: SeedDemo did not run")
	}
	return ids
}

var (
	givenNames  = []string{"Giuseppe", "Maria", "Giovanni", "Anna", "Antonio", "Francesca", "Luca", "Chiara", "Marco", "Sara"}
	familyNames = []string{"Russo", "Ferrari", "Esposito", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno", "Gallo"}
)

// citizenUser returns the i-th citizen of a benchmark (i < 100), as their identity provider
// would describe them: the claims include a well-formed fiscal code, unique per i.
func citizenUser(prefix string, i int) *sportello.User {
	given := givenNames[i%len(givenNames)]
	family := familyNames[(i/len(givenNames))%len(familyNames)]
	subject := fmt.Sprintf("%s-citizen-%03d", prefix, i)
	return &sportello.User{
		TenantID: sportello.DefaultTenantID, Subject: subject, Roles: []sportello.Role{sportello.RoleCitizen},
		GivenName: given, FamilyName: family, FiscalCode: fiscalCode(given, family, i),
		Email: strings.ToLower(given+"."+family) + fmt.Sprintf(".%d@example.it", i),
	}
}

// fiscalCode returns a fiscal code of the right shape and check character. Its birth year is
// i, so codes differ for i < 100; its town (F205, Milan) keeps them apart from the demo's.
func fiscalCode(given, family string, i int) string {
	const months = "ABCDEHLMPRST"
	first15 := fmt.Sprintf("%s%s%02d%c%02dF205", nameCode(family), nameCode(given), i%100, months[i%12], 1+i%28)
	return first15 + string(sportello.FiscalCodeCheckChar(first15))
}

// nameCode is the three letters of a name in a fiscal code: consonants, then vowels, then X.
func nameCode(name string) string {
	var consonants, vowels []byte
	for _, c := range []byte(strings.ToUpper(name)) {
		switch {
		case strings.IndexByte("AEIOU", c) >= 0:
			vowels = append(vowels, c)
		case c >= 'A' && c <= 'Z':
			consonants = append(consonants, c)
		}
	}
	return string(append(append(consonants, vowels...), 'X', 'X', 'X')[:3])
}

// ticketTexts are typical requests, long enough that the full-text column does real work.
var ticketTexts = []struct{ subject, body string }{
	{"Buca pericolosa in via Roma", "Buongiorno, segnalo una buca profonda davanti al civico 12 di via Roma, " +
		"all'altezza delle strisce pedonali. Di sera non è visibile e ieri un ciclista è caduto. Chiedo un intervento urgente."},
	{"Rinnovo della carta d'identità", "Vorrei sapere quali documenti servono per rinnovare la carta d'identità " +
		"elettronica di mio figlio minorenne, se è necessaria la presenza di entrambi i genitori e quali sono i tempi di attesa."},
	{"Ritardo nella raccolta dell'organico", "Da oltre una settimana in via Verdi non passa la raccolta " +
		"dell'organico. I bidoni sono pieni e con il caldo l'odore è insopportabile. Vi prego di sollecitare il gestore."},
	{"Rimborso TARI pagata due volte", "Per errore ho pagato due volte la prima rata della TARI 2026 (avviso " +
		"n. 4512). Allego le due ricevute e chiedo il rimborso della somma versata in eccesso o la compensazione con la rata successiva."},
	{"Proposta di un'area cani nel parco", "Propongo di recintare una piccola area del parco di via Mazzini per " +
		"i cani, come in altri quartieri. Molti residenti sarebbero disponibili a curarne la manutenzione."},
	{"Lampione spento in piazza Garibaldi", "Il lampione all'angolo tra piazza Garibaldi e via Cavour è spento " +
		"da giorni e la piazza di sera è molto buia. Segnalo anche che il palo è inclinato."},
	{"Contributo affitto: stato della domanda", "Ho presentato la domanda di contributo per l'affitto il mese " +
		"scorso e non ho ancora ricevuto notizie. Vorrei sapere a che punto è la pratica e se mancano documenti."},
}

package main

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	sportello "github.com/sportello/sportello"
)

// open311 calls the Open311 API as a 311 app would: GET with a query, or POST form-encoded.
func (s *testServer) open311(method, path string, form url.Values) (int, string) {
	s.t.Helper()
	var body io.Reader
	u := s.URL + "/open311/v2/" + path
	if method == http.MethodGet && form != nil {
		u += "?" + form.Encode()
	} else if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		s.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// open311Key creates an Open311 client as an admin and returns its API key and id.
func (s *testServer) open311Key(name string) (string, string) {
	s.t.Helper()
	var out struct {
		CreateOpen311Client struct {
			APIKey string `json:"apiKey"`
			Client struct{ ID string }
		}
	}
	s.ok(s.token(sportello.RoleAdmin, "admin-1"), `mutation($n: String!) { createOpen311Client(name: $n) { apiKey client { id name revokedAt } } }`,
		map[string]any{"n": name}, &out)
	return out.CreateOpen311Client.APIKey, out.CreateOpen311Client.Client.ID
}

type open311Request struct {
	ServiceRequestID  string   `json:"service_request_id" xml:"service_request_id"`
	Status            string   `json:"status" xml:"status"`
	StatusNotes       string   `json:"status_notes" xml:"status_notes"`
	ServiceCode       string   `json:"service_code" xml:"service_code"`
	ServiceName       string   `json:"service_name" xml:"service_name"`
	Description       string   `json:"description" xml:"description"`
	AgencyResponsible string   `json:"agency_responsible" xml:"agency_responsible"`
	ExpectedDatetime  string   `json:"expected_datetime" xml:"expected_datetime"`
	Address           string   `json:"address" xml:"address"`
	Lat               *float64 `json:"lat" xml:"lat"`
	Long              *float64 `json:"long" xml:"long"`
	MediaURL          string   `json:"media_url" xml:"media_url"`
	ServiceNotice     string   `json:"service_notice" xml:"service_notice"`
}

func TestOpen311ClientFilesAndFollowsARequestInJSON(t *testing.T) {
	s := startServer(t)
	key, _ := s.open311Key("Segnala Comune app")
	operator := s.token(sportello.RoleOperator, "op-1")

	status, body := s.open311(http.MethodGet, "discovery.json", nil)
	if status != http.StatusOK || !strings.Contains(body, `"url":"`+s.URL+`/open311/v2"`) {
		t.Fatalf("discovery: %d %s", status, body)
	}
	status, body = s.open311(http.MethodGet, "services.json", nil)
	var services []struct {
		ServiceCode string `json:"service_code"`
		Metadata    bool   `json:"metadata"`
		Group       string `json:"group"`
	}
	if err := json.Unmarshal([]byte(body), &services); err != nil || status != http.StatusOK {
		t.Fatalf("services: %d %s", status, body)
	}
	if len(services) != 2 || services[0].ServiceCode != sportello.Open311CodeReport || !services[0].Metadata {
		t.Fatalf("services = %+v", services)
	}
	status, body = s.open311(http.MethodGet, "services/segnalazione.json", nil)
	if status != http.StatusOK || !strings.Contains(body, `"code":"PERICOLO"`) || !strings.Contains(body, `"datatype":"singlevaluelist"`) {
		t.Fatalf("service definition: %d %s", status, body)
	}

	form := url.Values{"api_key": {key}, "service_code": {"segnalazione"}, "lat": {"45.4642"}, "long": {"9.19"},
		"address_string": {"Via Garibaldi 21"}, "description": {"Lampione spento da una settimana"},
		"media_url": {"https://img.example.org/lampione.jpg"}, "email": {"anna@example.it"}, "first_name": {"Anna"},
		"attribute[PERICOLO]": {"si"}}
	status, body = s.open311(http.MethodPost, "requests.json", form)
	var created []open311Request
	if err := json.Unmarshal([]byte(body), &created); err != nil || status != http.StatusCreated || len(created) != 1 {
		t.Fatalf("post: %d %s", status, body)
	}
	id := created[0].ServiceRequestID
	if !strings.Contains(created[0].ServiceNotice, strings.Replace(id, "-", "/", 1)) {
		t.Fatalf("notice %q does not carry the protocol number of %s", created[0].ServiceNotice, id)
	}

	// The office sees an ordinary ticket of channel OPEN311, with the answer to the question.
	var list struct {
		Tickets struct {
			Edges []struct {
				Node struct {
					ID, Kind, Channel, Body string
					Location                *struct{ Latitude, Longitude float64 }
				}
			}
		}
	}
	s.ok(operator, `{ tickets(filter: {channels: [OPEN311]}) { edges { node { id kind channel body location { latitude longitude } } } } }`, nil, &list)
	if len(list.Tickets.Edges) != 1 {
		t.Fatalf("tickets = %+v", list)
	}
	ticket := list.Tickets.Edges[0].Node
	if ticket.Kind != "REPORT" || !strings.Contains(ticket.Body, "pericolo per le persone? Sì") ||
		ticket.Location == nil || ticket.Location.Latitude != 45.4642 {
		t.Fatalf("ticket = %+v", ticket)
	}

	var near struct {
		Tickets struct{ TotalCount int }
	}
	for _, c := range []struct {
		lat, long float64
		want      int
	}{{45.4650, 9.1905, 1}, {45.07, 7.68, 0}} {
		s.ok(operator, `query($lat: Float!, $long: Float!) { tickets(filter: {near: {latitude: $lat, longitude: $long, radiusMeters: 500}}) { totalCount } }`,
			map[string]any{"lat": c.lat, "long": c.long}, &near)
		if near.Tickets.TotalCount != c.want {
			t.Fatalf("tickets near %v,%v: %d, want %d", c.lat, c.long, near.Tickets.TotalCount, c.want)
		}
	}

	status, body = s.open311(http.MethodGet, "requests/"+id+".json", nil)
	var got []open311Request
	if err := json.Unmarshal([]byte(body), &got); err != nil || status != http.StatusOK || len(got) != 1 {
		t.Fatalf("get: %d %s", status, body)
	}
	r := got[0]
	if r.Status != "open" || r.StatusNotes != "Ricevuta" || r.ServiceCode != "segnalazione" || r.Address != "Via Garibaldi 21" ||
		r.Lat == nil || *r.Lat != 45.4642 || r.MediaURL != "https://img.example.org/lampione.jpg" || r.ExpectedDatetime == "" {
		t.Fatalf("request = %+v", r)
	}
	if strings.Contains(body, "anna@example.it") {
		t.Fatalf("the public list shows the filer's e-mail: %s", body)
	}

	s.ok(operator, `mutation($id: ID!) { transitionTicket(ticketId: $id, to: IN_PROGRESS) { status } }`,
		map[string]any{"id": ticket.ID}, nil)
	s.ok(operator, `mutation($id: ID!) { transitionTicket(ticketId: $id, to: REJECTED, reason: "Non di competenza comunale") { status } }`,
		map[string]any{"id": ticket.ID}, nil)
	for _, q := range []url.Values{{"status": {"closed"}}, {"service_request_id": {id}}, {"service_code": {"segnalazione"}}} {
		status, body = s.open311(http.MethodGet, "requests.json", q)
		got = nil
		if err := json.Unmarshal([]byte(body), &got); err != nil || status != http.StatusOK || len(got) != 1 {
			t.Fatalf("list %v: %d %s", q, status, body)
		}
		if got[0].Status != "closed" || got[0].StatusNotes != "Respinta: Non di competenza comunale" {
			t.Fatalf("list %v = %+v", q, got[0])
		}
	}
	status, body = s.open311(http.MethodGet, "requests.json", url.Values{"status": {"open"}})
	if status != http.StatusOK || strings.TrimSpace(body) != "[]" {
		t.Fatalf("open requests: %d %s", status, body)
	}
	// Outside the default window of 90 days there is nothing.
	status, body = s.open311(http.MethodGet, "requests.json", url.Values{"end_date": {"2020-01-01T00:00:00+01:00"}})
	if status != http.StatusOK || strings.TrimSpace(body) != "[]" {
		t.Fatalf("old requests: %d %s", status, body)
	}
}

func TestOpen311ClientFilesAndReadsInXML(t *testing.T) {
	s := startServer(t)
	key, _ := s.open311Key("Civic XML")

	status, body := s.open311(http.MethodGet, "services.xml", nil)
	var services struct {
		XMLName  xml.Name `xml:"services"`
		Services []struct {
			ServiceCode string `xml:"service_code"`
		} `xml:"service"`
	}
	if err := xml.Unmarshal([]byte(body), &services); err != nil || status != http.StatusOK || len(services.Services) != 2 {
		t.Fatalf("services: %d %s", status, body)
	}
	status, body = s.open311(http.MethodPost, "requests.xml", url.Values{"api_key": {key}, "service_code": {"suggerimento"},
		"address_string": {"Piazza del Duomo"}})
	var created struct {
		XMLName  xml.Name         `xml:"service_requests"`
		Requests []open311Request `xml:"request"`
	}
	if err := xml.Unmarshal([]byte(body), &created); err != nil || status != http.StatusCreated || len(created.Requests) != 1 {
		t.Fatalf("post: %d %s", status, body)
	}
	id := created.Requests[0].ServiceRequestID
	status, body = s.open311(http.MethodGet, "requests/"+id+".xml", nil)
	var got struct {
		XMLName  xml.Name         `xml:"service_requests"`
		Requests []open311Request `xml:"request"`
	}
	if err := xml.Unmarshal([]byte(body), &got); err != nil || status != http.StatusOK || len(got.Requests) != 1 {
		t.Fatalf("get: %d %s", status, body)
	}
	if r := got.Requests[0]; r.ServiceRequestID != id || r.Status != "open" || r.ServiceName != "Suggerimento" ||
		r.Description != "Suggerimento – Piazza del Duomo" || r.Lat != nil {
		t.Fatalf("request = %+v", r)
	}

	status, body = s.open311(http.MethodGet, "requests/2026-9999999.xml", nil)
	var errs struct {
		XMLName xml.Name `xml:"errors"`
		Errors  []struct {
			Code        int    `xml:"code"`
			Description string `xml:"description"`
		} `xml:"error"`
	}
	if err := xml.Unmarshal([]byte(body), &errs); err != nil || status != http.StatusNotFound || len(errs.Errors) != 1 || errs.Errors[0].Code != 404 {
		t.Fatalf("missing request: %d %s", status, body)
	}
}

func TestOpen311RefusesBadRequestsWithTheSpecErrors(t *testing.T) {
	s := startServer(t)
	key, clientID := s.open311Key("Segnala")
	ok := url.Values{"api_key": {key}, "service_code": {"segnalazione"}, "lat": {"45.1"}, "long": {"9.1"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range ok {
			f[kk] = vv
		}
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	cases := []struct {
		name   string
		form   url.Values
		status int
		field  string
	}{
		{"no key", with("api_key", ""), http.StatusForbidden, "api_key"},
		{"unknown key", with("api_key", "o311_nope"), http.StatusForbidden, "api_key"},
		{"no service code", with("service_code", ""), http.StatusBadRequest, "service_code"},
		{"unknown service code", with("service_code", "buche"), http.StatusNotFound, "service_code"},
		{"no location", with("lat", ""), http.StatusBadRequest, "lat"},
		{"latitude out of range", with("lat", "91"), http.StatusBadRequest, "lat"},
		{"latitude not a number", with("lat", "NaN"), http.StatusBadRequest, "lat"},
		{"longitude not a number", with("long", "est"), http.StatusBadRequest, "long"},
		{"description too long", with("description", strings.Repeat("a", 4001)), http.StatusBadRequest, "description"},
		{"media url not http", with("media_url", "file:///etc/passwd"), http.StatusBadRequest, "media_url"},
		{"bad e-mail", with("email", "anna"), http.StatusBadRequest, "email"},
		{"unknown attribute", with("attribute[COLORE]", "rosso"), http.StatusBadRequest, "attribute[COLORE]"},
		{"attribute value not in list", with("attribute[PERICOLO]", "forse"), http.StatusBadRequest, "attribute[PERICOLO]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := s.open311(http.MethodPost, "requests.json", c.form)
			var errs []struct {
				Code        int    `json:"code"`
				Description string `json:"description"`
			}
			if err := json.Unmarshal([]byte(body), &errs); err != nil || status != c.status || len(errs) != 1 ||
				errs[0].Code != c.status || !strings.Contains(errs[0].Description, c.field) {
				t.Fatalf("%d %s", status, body)
			}
		})
	}
	if n := s.count(`SELECT count(*) FROM tickets`); n != 0 {
		t.Fatalf("refused requests wrote %d tickets", n)
	}

	// A revoked key files nothing more.
	s.ok(s.token(sportello.RoleAdmin, "admin-1"), `mutation($id: ID!) { revokeOpen311Client(id: $id) { revokedAt } }`,
		map[string]any{"id": clientID}, nil)
	if status, body := s.open311(http.MethodPost, "requests.json", ok); status != http.StatusForbidden {
		t.Fatalf("revoked key: %d %s", status, body)
	}
	for _, path := range []string{"nothing.json", "services/segnalazione.csv", "requests/x.json", "services/buche.json"} {
		if status, body := s.open311(http.MethodGet, path, nil); status != http.StatusNotFound || !strings.Contains(body, `"code":404`) {
			t.Fatalf("%s: %d %s", path, status, body)
		}
	}
	status, body := s.open311(http.MethodGet, "requests.json", url.Values{"start_date": {"ieri"}})
	if status != http.StatusBadRequest || !strings.Contains(body, "start_date") {
		t.Fatalf("bad start_date: %d %s", status, body)
	}
}

func TestOnlyAdminsManageOpen311Clients(t *testing.T) {
	s := startServer(t)
	const create = `mutation { createOpen311Client(name: "App") { apiKey } }`
	s.fails(s.token(sportello.RoleOperator, "op-1"), create, nil, sportello.CodeForbidden, "")
	s.fails("", create, nil, sportello.CodeUnauthenticated, "")
	admin := s.token(sportello.RoleAdmin, "admin-1")
	s.fails(admin, `mutation { createOpen311Client(name: " ") { apiKey } }`, nil, sportello.CodeBadUserInput, "name")
	s.fails(admin, `mutation { revokeOpen311Client(id: "00000000-0000-0000-0000-000000000009") { id } }`, nil, sportello.CodeNotFound, "")
	key, _ := s.open311Key("App")
	var list struct {
		Open311Clients []struct{ Name string }
	}
	s.ok(admin, `{ open311Clients { name } }`, nil, &list)
	if len(list.Open311Clients) != 1 || list.Open311Clients[0].Name != "App" {
		t.Fatalf("clients = %+v", list)
	}
	if n := s.count(`SELECT count(*) FROM open311_clients WHERE key_hash = sha256($1::bytea)`, key); n != 1 {
		t.Fatal("the key is not stored as its sha256")
	}
	if n := s.count(`SELECT count(*) FROM open311_clients WHERE position($1::bytea IN key_hash) > 0`, key); n != 0 {
		t.Fatal("the key is stored in clear")
	}
}

func TestOpen311OffersPublishedServicesAndRoutesTheirRequests(t *testing.T) {
	s := startServer(t)
	key, _ := s.open311Key("Segnala")
	operator := s.token(sportello.RoleOperator, "op-1")
	var officeID string
	if err := s.DB.Get(&officeID, `INSERT INTO offices (tenant_id, name) VALUES ($1, 'Lavori pubblici') RETURNING id`,
		sportello.DefaultTenantID); err != nil {
		t.Fatal(err)
	}
	var created struct {
		CreateService struct{ ID, Slug string }
	}
	s.ok(operator, serviceMutation, map[string]any{"in": map[string]any{"title": "Manutenzione strade", "summary": "Buche e marciapiedi",
		"officeId": officeID, "topics": []string{"strade"}}}, &created)
	draft := url.Values{"api_key": {key}, "service_code": {created.CreateService.Slug}, "address_string": {"Via Roma 1"}}
	if status, body := s.open311(http.MethodPost, "requests.json", draft); status != http.StatusNotFound {
		t.Fatalf("a draft service is offered: %d %s", status, body)
	}
	s.ok(operator, `mutation($id: ID!) { setServiceStatus(id: $id, status: PUBLISHED) { status } }`,
		map[string]any{"id": created.CreateService.ID}, nil)

	_, body := s.open311(http.MethodGet, "services.json", nil)
	if !strings.Contains(body, `"service_code":"manutenzione-strade","service_name":"Manutenzione strade","description":"Buche e marciapiedi","metadata":false,"type":"realtime","keywords":"strade","group":"Servizi comunali"`) {
		t.Fatalf("services: %s", body)
	}
	status, body := s.open311(http.MethodPost, "requests.json", draft)
	var posted []open311Request
	if err := json.Unmarshal([]byte(body), &posted); err != nil || status != http.StatusCreated {
		t.Fatalf("post: %d %s", status, body)
	}
	_, body = s.open311(http.MethodGet, "requests/"+posted[0].ServiceRequestID+".json", nil)
	var got []open311Request
	json.Unmarshal([]byte(body), &got)
	if len(got) != 1 || got[0].AgencyResponsible != "Lavori pubblici" || got[0].ServiceName != "Manutenzione strade" {
		t.Fatalf("request: %s", body)
	}
	if n := s.count(`SELECT count(*) FROM tickets WHERE office_id = $1 AND kind = 'REPORT' AND channel = 'OPEN311'`, officeID); n != 1 {
		t.Fatalf("%d tickets routed to the service's office", n)
	}
}

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	sportello "github.com/sportello/sportello"
)

// get sends a GraphQL query as an HTTP GET, as the portal and CDNs do, with extra headers.
func (s *testServer) getGraphQL(query string, extensions string, headers map[string]string) (*http.Response, string) {
	s.t.Helper()
	v := url.Values{}
	if query != "" {
		v.Set("query", query)
	}
	if extensions != "" {
		v.Set("extensions", extensions)
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/graphql?"+v.Encode(), nil)
	for k, val := range headers {
		req.Header.Set(k, val)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

const serviceMutation = `mutation($in: ServiceInput!) { createService(input: $in) { id slug status } }`

func TestOperatorPublishesAServiceThePublicFinds(t *testing.T) {
	s := startServer(t)
	operator := s.token(sportello.RoleOperator, "op-1")
	citizen := s.token(sportello.RoleCitizen, "cit-1")

	in := map[string]any{"title": "Carta d'identità elettronica", "summary": "Rilascio e rinnovo della CIE.",
		"description": "Servono una fototessera & la vecchia carta.", "channels": []string{"WEB", "COUNTER"},
		"onlineUrl": "https://www.prenotazionicie.interno.gov.it", "topics": []string{"Documenti"}}
	s.fails(citizen, serviceMutation, map[string]any{"in": in}, sportello.CodeForbidden, "")
	s.fails("", serviceMutation, map[string]any{"in": in}, sportello.CodeUnauthenticated, "")
	bad := map[string]any{"title": "X", "summary": "Y", "onlineUrl": "javascript:alert(1)"}
	s.fails(operator, serviceMutation, map[string]any{"in": bad}, sportello.CodeBadUserInput, "onlineUrl")

	var created struct {
		CreateService struct{ ID, Slug, Status string }
	}
	s.ok(operator, serviceMutation, map[string]any{"in": in}, &created)
	if created.CreateService.Slug != "carta-d-identita-elettronica" || created.CreateService.Status != "DRAFT" {
		t.Fatalf("created %+v", created)
	}
	const read = `query($slug: String!) { service(slug: $slug) { title channels onlineUrl topics } }`
	vars := map[string]any{"slug": created.CreateService.Slug}
	s.fails("", read, vars, sportello.CodeNotFound, "")

	s.ok(operator, `mutation($id: ID!) { setServiceStatus(id: $id, status: PUBLISHED) { status } }`,
		map[string]any{"id": created.CreateService.ID}, nil)
	var got struct {
		Service struct {
			Title     string
			Channels  []string
			OnlineURL string `json:"onlineUrl"`
			Topics    []string
		}
	}
	s.ok("", read, vars, &got)
	if got.Service.Title != in["title"] || len(got.Service.Channels) != 2 || got.Service.Topics[0] != "documenti" {
		t.Fatalf("public service = %+v", got.Service)
	}

	const search = `query($q: String!) { search(query: $q, types: [SERVICE, OFFICE], first: 5) {
		type id title snippet score item { __typename ... on Service { slug office { name } } } } }`
	var found struct {
		Search []struct {
			Type, ID, Title, Snippet string
			Score                    float64
			Item                     struct {
				Typename string `json:"__typename"`
				Slug     string
			}
		}
	}
	s.ok("", search, map[string]any{"q": "carta identita fototessera"}, &found)
	if len(found.Search) != 1 || found.Search[0].Item.Slug != created.CreateService.Slug || found.Search[0].Item.Typename != "Service" {
		t.Fatalf("search = %+v", found.Search)
	}
	if sn := found.Search[0].Snippet; !strings.Contains(sn, "<mark>fototessera</mark>") || !strings.Contains(sn, "&amp;") {
		t.Fatalf("snippet = %q", sn)
	}
	s.fails("", `{ search(query: "") { id } }`, nil, sportello.CodeBadUserInput, "query")
}

func TestAnonymousGETsAreCacheableAndAnswer304(t *testing.T) {
	s := startServer(t)
	const q = `{ services(first: 5) { edges { node { title } } } offices { name } }`
	res, body := s.getGraphQL(q, "", nil)
	etag := res.Header.Get("ETag")
	if res.StatusCode != http.StatusOK || etag == "" || res.Header.Get("Cache-Control") != "public, max-age=60" {
		t.Fatalf("status %d, ETag %q, Cache-Control %q: %s", res.StatusCode, etag, res.Header.Get("Cache-Control"), body)
	}
	if !strings.Contains(res.Header.Get("Vary"), "Authorization") {
		t.Fatalf("Vary = %q", res.Header.Get("Vary"))
	}
	res, body = s.getGraphQL(q, "", map[string]string{"If-None-Match": etag})
	if res.StatusCode != http.StatusNotModified || body != "" || res.Header.Get("ETag") != etag {
		t.Fatalf("revalidation: status %d, body %q", res.StatusCode, body)
	}

	// A persisted query: registered once with its text, then sent by hash alone.
	sum := sha256.Sum256([]byte(q))
	ext := `{"persistedQuery":{"version":1,"sha256Hash":"` + hex.EncodeToString(sum[:]) + `"}}`
	s.getGraphQL(q, ext, nil)
	res, body = s.getGraphQL("", ext, nil)
	if res.StatusCode != http.StatusOK || res.Header.Get("ETag") != etag {
		t.Fatalf("persisted query: status %d, ETag %q, %s", res.StatusCode, res.Header.Get("ETag"), body)
	}

	operator := s.token(sportello.RoleOperator, "op-1")
	for _, tc := range []struct {
		name    string
		query   string
		headers map[string]string
	}{
		{"signed in", q, map[string]string{"Authorization": "Bearer " + operator}},
		{"personal data by receipt", `{ ticketByReceipt(protocolNumber: "2026/0000001", receiptCode: "ABCDE-FGHJK") { status } }`, nil},
		{"public and private fields together", `{ offices { name } ticketByReceipt(protocolNumber: "2026/0000001", receiptCode: "ABCDE-FGHJK") { status } }`, nil},
		{"an error", `{ service(slug: "non-esiste") { title } }`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := s.getGraphQL(tc.query, "", tc.headers)
			if res.Header.Get("ETag") != "" || res.Header.Get("Cache-Control") != "private, no-store" {
				t.Fatalf("ETag %q, Cache-Control %q: %s", res.Header.Get("ETag"), res.Header.Get("Cache-Control"), body)
			}
		})
	}
}

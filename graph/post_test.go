package graph

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// A response written without encoding/json reads back as the one encoding/json writes.
func TestWriteResponseReadsBackAsEncodingJSONWouldWriteIt(t *testing.T) {
	hasNext := true
	for _, tc := range []struct {
		name string
		resp *graphql.Response
	}{
		{"data alone", &graphql.Response{Data: json.RawMessage(`{"search":[{"title":"Carta d'identità <elettronica>","score":0.5,"tags":["a","b"]}]}`)}},
		{"data and errors", &graphql.Response{Data: json.RawMessage(`{"ticket":null}`), Errors: gqlerror.List{{Message: "not found"}}}},
		{"errors alone", &graphql.Response{Errors: gqlerror.List{{Message: "bad", Extensions: map[string]any{"code": "BAD_USER_INPUT"}}}}},
		{"data and extensions", &graphql.Response{Data: json.RawMessage(`{"a":1}`), Extensions: map[string]any{"cost": 3}}},
		{"an incremental part", &graphql.Response{Data: json.RawMessage(`{"a":1}`), Label: "l", HasNext: &hasNext}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			writeResponse(rec, tc.resp)
			want, err := json.Marshal(tc.resp)
			if err != nil {
				t.Fatal(err)
			}
			var got, exp any
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("%s is not JSON: %v", rec.Body.Bytes(), err)
			}
			if err := json.Unmarshal(want, &exp); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, exp) {
				t.Errorf("wrote %s, encoding/json writes %s", rec.Body.Bytes(), want)
			}
			// A response of data alone, written in pieces, says its length beforehand.
			n := rec.Header().Get("Content-Length")
			if (n != "" || tc.name == "data alone") && n != strconv.Itoa(rec.Body.Len()) {
				t.Errorf("Content-Length %q for a body of %d bytes", n, rec.Body.Len())
			}
		})
	}
}

func TestPostAnswersInTheMediaTypeTheClientAccepts(t *testing.T) {
	for _, tc := range []struct{ accept, want string }{
		{"", "application/json"},
		{"application/json", "application/json"},
		{"*/*", "application/json"},
		{"application/*", "application/json"},
		{"application/graphql-response+json", graphQLResponseJSON},
		{"application/graphql-response+json, application/json;q=0.9", graphQLResponseJSON},
		{"text/html, application/json", "application/json"},
		{"text/html", graphQLResponseJSON},
		{"not a media type", graphQLResponseJSON},
	} {
		r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
		if tc.accept != "" {
			r.Header.Set("Accept", tc.accept)
		}
		if got := postContentType(r); got != tc.want {
			t.Errorf("Accept %q: %s, want %s", tc.accept, got, tc.want)
		}
	}
}

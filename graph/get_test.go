package graph

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestResponseContentTypeFollowsAccept(t *testing.T) {
	tests := []struct{ accept, want string }{
		{"", "application/json"},
		{"*/*", "application/json"},
		{"application/graphql-response+json", graphQLResponseJSON},
		{"application/graphql-response+json, application/json;q=0.9", graphQLResponseJSON},
		{"application/json", "application/json"},
		{"text/html, application/json", "application/json"},
	}
	for _, tt := range tests {
		r := newRequest(tt.accept)
		if got := responseContentType(r); got != tt.want {
			t.Errorf("Accept %q: %q, want %q", tt.accept, got, tt.want)
		}
	}
}

func newRequest(accept string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/graphql", strings.NewReader(""))
	if accept != "" {
		r.Header.Set("Accept", accept)
	}
	return r
}

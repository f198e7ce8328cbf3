package main

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	sportello "github.com/sportello/sportello"
)

func TestTheAppRunsOnlyItsRegisteredOperations(t *testing.T) {
	s := startServer(t, func(c *Config) { c.AllowListClients = []string{"app"} })
	registered := `query Offices { offices { id name } }`
	manifest := filepath.Join(t.TempDir(), "operations.json")
	if err := os.WriteFile(manifest, []byte(`{"Offices": `+strconv.Quote(registered)+`}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := persistedCmd(context.Background(), Config{DatabaseURL: s.dbURL}, []string{"register", manifest}); err != nil {
		t.Fatalf("register: %v", err)
	}
	other := `{ offices { id } }`
	body := func(query, hash string) string {
		fields := []string{}
		if query != "" {
			fields = append(fields, `"query":`+strconv.Quote(query))
		}
		if hash != "" {
			fields = append(fields, `"extensions":{"persistedQuery":{"version":1,"sha256Hash":"`+hash+`"}}`)
		}
		return "{" + strings.Join(fields, ",") + "}"
	}
	tests := []struct {
		name, client, query, hash string
		allowed                   bool
	}{
		{"the app sends a registered hash", "app", "", sportello.OperationHash(registered), true},
		{"the app sends a registered text", "app", registered, "", true},
		{"the app sends a registered text with its hash", "app", registered, sportello.OperationHash(registered), true},
		{"the app sends an unknown hash", "app", "", sportello.OperationHash(other), false},
		{"the app sends a text that is not registered", "app", other, "", false},
		{"the app sends another text under a registered hash", "app", other, sportello.OperationHash(registered), false},
		{"the app sends nothing", "app", "", "", false},
		{"the portal runs any operation", "", other, "", true},
		{"another client runs any operation", "portal", other, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/graphql-response+json"}}
			if tt.client != "" {
				h.Set("X-Client-Name", tt.client)
			}
			res, got := s.send(http.MethodPost, "/graphql", h, strings.NewReader(body(tt.query, tt.hash)))
			if tt.allowed {
				if res.StatusCode != http.StatusOK || !strings.Contains(got, `"offices"`) || strings.Contains(got, `"errors"`) {
					t.Fatalf("refused: %d %s", res.StatusCode, got)
				}
				return
			}
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(got, `"code":"PERSISTED_QUERY_NOT_ALLOWED"`) {
				t.Fatalf("not refused with PERSISTED_QUERY_NOT_ALLOWED: %d %s", res.StatusCode, got)
			}
		})
	}

	t.Run("the app's registered hash works over GET", func(t *testing.T) {
		ext := `{"persistedQuery":{"version":1,"sha256Hash":"` + sportello.OperationHash(registered) + `"}}`
		res, got := s.send(http.MethodGet, "/graphql?extensions="+url.QueryEscape(ext), http.Header{"X-Client-Name": {"app"}}, nil)
		if res.StatusCode != http.StatusOK || !strings.Contains(got, `"offices"`) {
			t.Fatalf("by hash: %d %s", res.StatusCode, got)
		}
	})
}

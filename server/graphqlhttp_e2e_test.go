package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestServerPassesTheGraphQLOverHTTPAudit runs the graphql-http package's server audits
// (e2e/graphql-http/audit.mjs) against the real server: no MUST of the GraphQL over HTTP
// specification may fail.
func TestServerPassesTheGraphQLOverHTTPAudit(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: run `make test`")
	}
	if _, err := os.Stat(filepath.Join(root, "e2e/graphql-http/node_modules/graphql-http/package.json")); err != nil {
		t.Fatal("graphql-http is not installed: run `make test` (scripts/browser-deps.sh installs it)")
	}
	s := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "e2e/graphql-http/audit.mjs")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GRAPHQL_URL="+s.URL+"/graphql")
	out, err := cmd.CombinedOutput()
	t.Logf("graphql-http audit:\n%s", out)
	if err != nil {
		t.Fatalf("a MUST of GraphQL over HTTP fails (%v)", err)
	}
}

package db_test

import (
	"context"
	"testing"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/db/dbtest"
)

func TestRegisteringOperationsAddsToTheClientsAllowList(t *testing.T) {
	p := db.NewPersistedOperations(dbtest.New(t))
	ctx := context.Background()
	v1 := map[string]string{"Offices": `{ offices { id } }`, "Me": `{ me { id } }`}
	if n, err := p.RegisterOperations(ctx, "app", v1); err != nil || n != 2 {
		t.Fatalf("first manifest: %d %v", n, err)
	}
	// The next version renames one operation and adds another; the first version's stay.
	v2 := map[string]string{"AllOffices": `{ offices { id } }`, "Tickets": `{ tickets { edges { node { id } } } }`}
	if n, err := p.RegisterOperations(ctx, "app", v2); err != nil || n != 3 {
		t.Fatalf("second manifest: %d %v", n, err)
	}
	if q, err := p.RegisteredOperation(ctx, "app", sportello.OperationHash(`{ me { id } }`)); err != nil || q != `{ me { id } }` {
		t.Fatalf("first version's operation: %q %v", q, err)
	}
	_, err := p.RegisteredOperation(ctx, "kiosk", sportello.OperationHash(`{ me { id } }`))
	wantCode(t, err, sportello.CodeNotFound)
}

func TestAManifestWithoutOperationsIsRefused(t *testing.T) {
	p := db.NewPersistedOperations(dbtest.New(t))
	tests := []struct {
		name     string
		client   string
		manifest map[string]string
		field    string
	}{
		{"no client", " ", map[string]string{"Me": `{ me { id } }`}, "client"},
		{"no operations", "app", map[string]string{}, "manifest"},
		{"an operation without text", "app", map[string]string{"Me": " "}, "manifest"},
		{"an operation without a name", "app", map[string]string{"": `{ me { id } }`}, "manifest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.RegisterOperations(context.Background(), tt.client, tt.manifest)
			wantField(t, err, sportello.CodeBadUserInput, tt.field)
		})
	}
}

package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
)

// PersistedOperations implements sportello.PersistedOperations.
type PersistedOperations struct {
	db *DB
}

// NewPersistedOperations returns the allow-lists over db.
func NewPersistedOperations(db *DB) *PersistedOperations { return &PersistedOperations{db: db} }

var _ sportello.PersistedOperations = (*PersistedOperations)(nil)

// RegisterOperations adds a manifest to a client's allow-list. See sportello.PersistedOperations.
// An operation registered again under another name takes the new name.
func (p *PersistedOperations) RegisterOperations(ctx context.Context, client string, manifest map[string]string) (int, error) {
	if err := sportello.ValidateManifest(client, manifest); err != nil {
		return 0, err
	}
	names := make([]string, 0, len(manifest))
	for name := range manifest {
		names = append(names, name)
	}
	slices.Sort(names)
	hashes, queries := make([]string, len(names)), make([]string, len(names))
	for i, name := range names {
		queries[i] = manifest[name]
		hashes[i] = sportello.OperationHash(queries[i])
	}
	var n int
	err := p.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO persisted_operations (client, hash, name, query)
			SELECT $1, h, n, q FROM unnest($2::text[], $3::text[], $4::text[]) AS m(h, n, q)
			ON CONFLICT (client, hash) DO UPDATE SET name = excluded.name`,
			client, pq.Array(hashes), pq.Array(names), pq.Array(queries)); err != nil {
			return fmt.Errorf("register operations: %w", err)
		}
		if err := tx.GetContext(ctx, &n, `SELECT count(*) FROM persisted_operations WHERE client = $1`, client); err != nil {
			return fmt.Errorf("count operations: %w", err)
		}
		return nil
	})
	return n, err
}

// RegisteredOperation finds a registered operation. See sportello.PersistedOperations.
func (p *PersistedOperations) RegisteredOperation(ctx context.Context, client, hash string) (string, error) {
	var query string
	err := p.db.GetContext(ctx, &query, `SELECT query FROM persisted_operations WHERE client = $1 AND hash = $2`, client, hash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", sportello.NotFound("operation")
	}
	if err != nil {
		return "", fmt.Errorf("find operation: %w", err)
	}
	return query, nil
}

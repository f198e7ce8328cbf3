package sportello

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// PersistedOperations is the allow-list of the clients restricted to registered operations, such
// as the mobile app: its build registers the operations it contains, and the API runs nothing
// else for it.
type PersistedOperations interface {
	// RegisterOperations adds a manifest's operations (name to query text) to the client's
	// allow-list and returns how many it holds now. Registering is additive: operations of the
	// app's earlier versions, still installed on phones, keep working. Errors: BAD_USER_INPUT.
	RegisterOperations(ctx context.Context, client string, manifest map[string]string) (int, error)
	// RegisteredOperation returns the query text registered for the client under the hash.
	// Errors: NOT_FOUND.
	RegisteredOperation(ctx context.Context, client, hash string) (string, error)
}

// OperationHash is the hash a persisted operation is known by: the lowercase hexadecimal SHA-256
// of its text, as automatic persisted queries compute it.
func OperationHash(query string) string {
	sum := sha256.Sum256([]byte(query))
	return hex.EncodeToString(sum[:])
}

// ValidateManifest checks a manifest of operations before it is registered: a client name, and
// at least one operation, each with a name and a text.
func ValidateManifest(client string, manifest map[string]string) error {
	if strings.TrimSpace(client) == "" || len(client) > 100 {
		return InvalidField("client", "must be a client name of at most 100 characters")
	}
	if len(manifest) == 0 {
		return InvalidField("manifest", "holds no operations")
	}
	for name, query := range manifest {
		if strings.TrimSpace(name) == "" {
			return InvalidField("manifest", "has an operation without a name")
		}
		if strings.TrimSpace(query) == "" {
			return InvalidField("manifest", "operation %q has no text", name)
		}
	}
	return nil
}

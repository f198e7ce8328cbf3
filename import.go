package sportello

import (
	"errors"
	"fmt"
)

// ImportRejection is a row an import refused: where it is in the file, the field at fault and
// why.
type ImportRejection struct {
	Row    string
	Field  string
	Reason string
}

func (r ImportRejection) String() string {
	if r.Field != "" {
		return fmt.Sprintf("%s: %s: %s", r.Row, r.Field, r.Reason)
	}
	return fmt.Sprintf("%s: %s", r.Row, r.Reason)
}

// ImportTally counts what an import did with its rows.
type ImportTally struct {
	Created, Updated, Unchanged int
	Rejected                    []ImportRejection
}

// Count records what writing one row did. A domain error other than UNAUTHENTICATED and
// FORBIDDEN rejects the row and the import goes on; any other error is returned, naming the row,
// and the import should stop (the database went away, or the importer may not write at all).
func (t *ImportTally) Count(row string, outcome UpsertOutcome, err error) error {
	var de *Error
	switch {
	case err == nil:
		switch outcome {
		case UpsertCreated:
			t.Created++
		case UpsertUpdated:
			t.Updated++
		default:
			t.Unchanged++
		}
	case errors.As(err, &de) && de.Code != CodeUnauthenticated && de.Code != CodeForbidden:
		t.Rejected = append(t.Rejected, ImportRejection{Row: row, Field: de.Field, Reason: de.Message})
	default:
		return fmt.Errorf("%s: %w", row, err)
	}
	return nil
}

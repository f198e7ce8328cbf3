package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
)

// BlobStore is the PostgreSQL sportello.BlobStore: contents in a table of their own, apart from
// the tables that lists and searches read.
type BlobStore struct {
	db *DB
}

// NewBlobStore returns the PostgreSQL blob store over db.
func NewBlobStore(db *DB) *BlobStore { return &BlobStore{db: db} }

var _ sportello.BlobStore = (*BlobStore)(nil)

// Put stores data under key. See sportello.BlobStore.
func (b *BlobStore) Put(ctx context.Context, key string, data []byte) error {
	return putBlob(ctx, b.db, key, data)
}

// putBlob is Put through q, a transaction or the pool.
func putBlob(ctx context.Context, q sqlx.ExecerContext, key string, data []byte) error {
	if _, err := q.ExecContext(ctx, `INSERT INTO blobs (key, data) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`,
		key, data); err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	return nil
}

// Get returns the content under key. See sportello.BlobStore.
func (b *BlobStore) Get(ctx context.Context, key string) ([]byte, error) {
	var data []byte
	err := b.db.GetContext(ctx, &data, `SELECT data FROM blobs WHERE key = $1`, key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sportello.NotFound("file")
	}
	if err != nil {
		return nil, fmt.Errorf("get blob: %w", err)
	}
	return data, nil
}

// blobs returns the configured blob store, PostgreSQL's by default.
func (db *DB) blobs() sportello.BlobStore {
	if db.Blobs != nil {
		return db.Blobs
	}
	return NewBlobStore(db)
}

// insertAttachments stores checked files of a ticket or of one of its messages. Contents go to
// the blob store first: a store outside PostgreSQL cannot roll back with tx, and a content left
// behind by a rollback is harmless, since it is keyed by its hash and referenced by no row.
// PostgreSQL's own store writes in tx, and rolls back with it: through the pool, it would wait
// for a second connection while tx holds one, and concurrent uploads could take every
// connection and then wait for one another.
func (db *DB) insertAttachments(ctx context.Context, tx *sqlx.Tx, t *sportello.Ticket, messageID string, files []*sportello.CheckedUpload, now time.Time) error {
	for i, f := range files {
		key := sportello.BlobKey(t.TenantID, f.SHA256)
		var err error
		if db.Blobs == nil {
			err = putBlob(ctx, tx, key, f.Data)
		} else {
			err = db.Blobs.Put(ctx, key, f.Data)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO attachments (tenant_id, ticket_id, message_id, filename,
			content_type, size, sha256, position, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			t.TenantID, t.ID, nullID(messageID), f.Filename, f.ContentType, len(f.Data), f.SHA256, i, now); err != nil {
			return fmt.Errorf("insert attachment: %w", err)
		}
	}
	return nil
}

// AttachmentService implements sportello.AttachmentService.
type AttachmentService struct {
	db *DB
}

// NewAttachmentService returns the attachment service over db.
func NewAttachmentService(db *DB) *AttachmentService { return &AttachmentService{db: db} }

var _ sportello.AttachmentService = (*AttachmentService)(nil)

const attachmentColumns = `a.id, a.tenant_id, a.ticket_id, coalesce(a.message_id::text, '') AS message_id, a.filename,
	a.content_type, a.size, a.sha256, a.created_at`

type attachmentRow struct {
	ID          string    `db:"id"`
	TenantID    string    `db:"tenant_id"`
	TicketID    string    `db:"ticket_id"`
	MessageID   string    `db:"message_id"`
	Filename    string    `db:"filename"`
	ContentType string    `db:"content_type"`
	Size        int       `db:"size"`
	SHA256      string    `db:"sha256"`
	CreatedAt   time.Time `db:"created_at"`
}

func (r *attachmentRow) attachment() *sportello.Attachment {
	return &sportello.Attachment{ID: r.ID, TenantID: r.TenantID, TicketID: r.TicketID, MessageID: r.MessageID,
		Filename: r.Filename, ContentType: r.ContentType, Size: r.Size, SHA256: r.SHA256, CreatedAt: r.CreatedAt}
}

// attachmentScope is the condition on attachments aliased a, of tickets aliased t, that the
// caller may see: those of the tickets they see, and for anyone but staff not those of internal
// notes.
func attachmentScope(c caller, a *args) string {
	cond := c.ticketScope(a)
	if !c.staff {
		cond += ` AND NOT EXISTS (SELECT 1 FROM ticket_messages m WHERE m.id = a.message_id AND m.internal)`
	}
	return cond
}

// AttachmentsByTicket returns the attachments of tickets. See sportello.AttachmentService.
func (s *AttachmentService) AttachmentsByTicket(ctx context.Context, ticketIDs []string) (map[string][]*sportello.Attachment, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	var a args
	query := `SELECT ` + attachmentColumns + ` FROM attachments a JOIN tickets t ON t.id = a.ticket_id
		WHERE a.ticket_id = ANY(` + a.add(pq.Array(validIDs(ticketIDs))) + `::uuid[]) AND ` + attachmentScope(c, &a) +
		` ORDER BY a.created_at, a.position, a.id`
	var rows []attachmentRow
	if err := s.db.SelectContext(ctx, &rows, query, a...); err != nil {
		return nil, fmt.Errorf("list attachments: %w", err)
	}
	out := make(map[string][]*sportello.Attachment, len(ticketIDs))
	for _, id := range ticketIDs {
		out[id] = []*sportello.Attachment{}
	}
	for i := range rows {
		out[rows[i].TicketID] = append(out[rows[i].TicketID], rows[i].attachment())
	}
	return out, nil
}

// Attachment returns an attachment and its content. See sportello.AttachmentService.
func (s *AttachmentService) Attachment(ctx context.Context, id string) (*sportello.Attachment, []byte, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, nil, err
	}
	if !validID(id) {
		return nil, nil, sportello.NotFound("attachment")
	}
	var a args
	var row attachmentRow
	err = s.db.GetContext(ctx, &row, `SELECT `+attachmentColumns+` FROM attachments a JOIN tickets t ON t.id = a.ticket_id
		WHERE a.id = `+a.add(id)+` AND `+attachmentScope(c, &a), a...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, sportello.NotFound("attachment")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get attachment: %w", err)
	}
	data, err := s.db.blobs().Get(ctx, sportello.BlobKey(row.TenantID, row.SHA256))
	if err != nil {
		return nil, nil, err
	}
	return row.attachment(), data, nil
}

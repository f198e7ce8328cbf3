package db

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
)

// Open311Service implements sportello.Open311Service.
type Open311Service struct {
	db      *DB
	tickets *TicketService
}

// NewOpen311Service returns the Open311 service over db.
func NewOpen311Service(db *DB) *Open311Service {
	return &Open311Service{db: db, tickets: NewTicketService(db)}
}

var _ sportello.Open311Service = (*Open311Service)(nil)

// requireAdmin returns the caller if they administer the tenant.
func requireAdmin(ctx context.Context) (caller, error) {
	return requireSignedIn(ctx, func(c caller) bool { return c.user.HasRole(sportello.RoleAdmin) })
}

type open311ClientRow struct {
	ID        string       `db:"id"`
	Name      string       `db:"name"`
	CreatedAt time.Time    `db:"created_at"`
	RevokedAt sql.NullTime `db:"revoked_at"`
}

func (r *open311ClientRow) client() *sportello.Open311Client {
	c := &sportello.Open311Client{ID: r.ID, Name: r.Name, CreatedAt: r.CreatedAt}
	if r.RevokedAt.Valid {
		at := r.RevokedAt.Time
		c.RevokedAt = &at
	}
	return c
}

// open311KeyPrefix starts every API key, so that a leaked key is recognizable by secret
// scanners and in logs.
const open311KeyPrefix = "o311_"

func hashAPIKey(key string) []byte {
	sum := sha256.Sum256([]byte(strings.TrimSpace(key)))
	return sum[:]
}

// CreateOpen311Client registers a client application. See sportello.Open311Service.
func (s *Open311Service) CreateOpen311Client(ctx context.Context, name string) (*sportello.IssuedOpen311Client, error) {
	c, err := requireAdmin(ctx)
	if err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, sportello.InvalidField("name", "must not be empty")
	}
	if n := len([]rune(name)); n > sportello.MaxOpen311ClientNameLen {
		return nil, sportello.InvalidField("name", "must be at most %d characters (got %d)", sportello.MaxOpen311ClientNameLen, n)
	}
	// 32 random bytes: the key is the client's only credential, so it must not be guessable;
	// a hash of it is stored, so a copy of the database does not reveal it.
	var b [32]byte
	rand.Read(b[:])
	key := open311KeyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	var row open311ClientRow
	if err := s.db.GetContext(ctx, &row, `INSERT INTO open311_clients (tenant_id, name, key_hash, created_at)
		VALUES ($1, $2, $3, $4) RETURNING id, name, created_at, revoked_at`,
		c.tenantID, name, hashAPIKey(key), s.db.now()); err != nil {
		return nil, fmt.Errorf("create open311 client: %w", err)
	}
	return &sportello.IssuedOpen311Client{Client: row.client(), APIKey: key}, nil
}

// RevokeOpen311Client revokes a client's key. See sportello.Open311Service.
func (s *Open311Service) RevokeOpen311Client(ctx context.Context, id string) (*sportello.Open311Client, error) {
	c, err := requireAdmin(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, sportello.NotFound("Open311 client")
	}
	var row open311ClientRow
	err = s.db.GetContext(ctx, &row, `UPDATE open311_clients SET revoked_at = coalesce(revoked_at, $3)
		WHERE id = $1 AND tenant_id = $2 RETURNING id, name, created_at, revoked_at`, id, c.tenantID, s.db.now())
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sportello.NotFound("Open311 client")
	}
	if err != nil {
		return nil, fmt.Errorf("revoke open311 client: %w", err)
	}
	return row.client(), nil
}

// Open311Clients lists the clients. See sportello.Open311Service.
func (s *Open311Service) Open311Clients(ctx context.Context) ([]*sportello.Open311Client, error) {
	c, err := requireAdmin(ctx)
	if err != nil {
		return nil, err
	}
	var rows []open311ClientRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT id, name, created_at, revoked_at FROM open311_clients
		WHERE tenant_id = $1 ORDER BY created_at DESC, id`, c.tenantID); err != nil {
		return nil, fmt.Errorf("list open311 clients: %w", err)
	}
	out := make([]*sportello.Open311Client, len(rows))
	for i := range rows {
		out[i] = rows[i].client()
	}
	return out, nil
}

// Open311Services lists the service codes. See sportello.Open311Service.
func (s *Open311Service) Open311Services(ctx context.Context) ([]*sportello.Open311ServiceDef, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return s.services(ctx, s.db, c.tenantID, nil)
}

type open311ServiceRow struct {
	Slug     string         `db:"slug"`
	Title    string         `db:"title"`
	Summary  string         `db:"summary"`
	OfficeID sql.NullString `db:"office_id"`
	Topics   pq.StringArray `db:"topics"`
}

// services returns the categories and the published catalogue services, only those whose code
// is among codes when codes is not nil.
func (s *Open311Service) services(ctx context.Context, q sqlx.QueryerContext, tenantID string, codes []string) ([]*sportello.Open311ServiceDef, error) {
	var out []*sportello.Open311ServiceDef
	for _, def := range sportello.Open311Categories {
		if codes == nil || slices.Contains(codes, def.Code) {
			out = append(out, def)
		}
	}
	var a args
	query := `SELECT slug, title, summary, office_id, topics FROM services
		WHERE tenant_id = ` + a.add(tenantID) + ` AND status = 'PUBLISHED'`
	if codes != nil {
		query += ` AND slug = ANY(` + a.add(pq.Array(codes)) + `)`
	}
	var rows []open311ServiceRow
	if err := sqlx.SelectContext(ctx, q, &rows, query+` ORDER BY title, slug`, a...); err != nil {
		return nil, fmt.Errorf("list open311 services: %w", err)
	}
	for _, r := range rows {
		out = append(out, &sportello.Open311ServiceDef{Code: r.Slug, Name: r.Title, Description: r.Summary,
			Group: sportello.Open311GroupServices, Keywords: r.Topics, Kind: sportello.KindReport, OfficeID: r.OfficeID.String})
	}
	return out, nil
}

// SubmitOpen311Request files a ticket for an Open311 client. See sportello.Open311Service.
func (s *Open311Service) SubmitOpen311Request(ctx context.Context, in sportello.Open311RequestInput) (*sportello.Open311Request, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.APIKey) == "" {
		return nil, sportello.Errorf(sportello.CodeForbidden, "api_key is required: ask the municipality for one")
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var out *sportello.Open311Request
	err = s.db.inEventTx(ctx, c.tenantID, func(tx *sqlx.Tx) error {
		var client open311ClientRow
		err := tx.GetContext(ctx, &client, `SELECT id, name, created_at, revoked_at FROM open311_clients
			WHERE tenant_id = $1 AND key_hash = $2 AND revoked_at IS NULL`, c.tenantID, hashAPIKey(in.APIKey))
		if errors.Is(err, sql.ErrNoRows) {
			return sportello.Errorf(sportello.CodeForbidden, "api_key is not valid")
		}
		if err != nil {
			return fmt.Errorf("find open311 client: %w", err)
		}
		defs, err := s.services(ctx, tx, c.tenantID, []string{in.ServiceCode})
		if err != nil {
			return err
		}
		if len(defs) == 0 {
			return &sportello.Error{Code: sportello.CodeNotFound, Field: "service_code", Message: "no service has this code"}
		}
		def := defs[0]
		if err := def.CheckAttributes(in.Attributes); err != nil {
			return err
		}
		nt := newTicket{kind: def.Kind, channel: sportello.ChannelOpen311, subject: def.Name,
			body: open311Body(def, &in), officeID: def.OfficeID, location: open311Location(&in)}
		if name := strings.TrimSpace(in.FirstName + " " + in.LastName); name != "" || in.Email != "" || in.Phone != "" {
			nt.contact = &sportello.Contact{Name: name, Email: in.Email, Phone: in.Phone}
		}
		who := sportello.Actor{Kind: sportello.ActorSystem, Name: "Open311: " + client.Name}
		sub, err := s.tickets.insertTicket(ctx, tx, c, who, nt)
		if err != nil {
			return err
		}
		attrs, err := json.Marshal(in.Attributes)
		if err != nil {
			return fmt.Errorf("encode attributes: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO open311_requests (ticket_id, tenant_id, client_id, service_code,
			service_name, media_url, device_id, account_id, attributes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			sub.Ticket.ID, c.tenantID, client.ID, def.Code, def.Name, in.MediaURL, in.DeviceID, in.AccountID,
			string(attrs)); err != nil {
			return fmt.Errorf("insert open311 request: %w", err)
		}
		out = &sportello.Open311Request{Ticket: sub.Ticket, ServiceCode: def.Code, ServiceName: def.Name,
			MediaURL: in.MediaURL, ReceiptCode: sub.ReceiptCode}
		if def.OfficeID != "" {
			if err := tx.GetContext(ctx, &out.AgencyResponsible, `SELECT name FROM offices WHERE id = $1`, def.OfficeID); err != nil {
				return fmt.Errorf("find office: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// open311Body is the ticket's text: the description, or the service and place when the client
// sent none (GeoReport v2 makes the description optional, tickets need a body), followed by the
// answers to the service's questions, so that operators read them with the rest.
func open311Body(def *sportello.Open311ServiceDef, in *sportello.Open311RequestInput) string {
	var b strings.Builder
	switch {
	case in.Description != "":
		b.WriteString(in.Description)
	case in.Address != "":
		b.WriteString(def.Name + " – " + in.Address)
	default:
		fmt.Fprintf(&b, "%s – %.6f, %.6f", def.Name, *in.Latitude, *in.Longitude)
	}
	for _, a := range def.Attributes {
		if values := in.Attributes[a.Code]; len(values) > 0 {
			names := make([]string, 0, len(values))
			for _, v := range values {
				if i := slices.IndexFunc(a.Values, func(x sportello.Open311Value) bool { return x.Key == v }); i >= 0 {
					v = a.Values[i].Name
				}
				names = append(names, v)
			}
			fmt.Fprintf(&b, "\n\n%s %s", a.Description, strings.Join(names, ", "))
		}
	}
	return b.String()
}

// open311Location is the ticket's location from the request's coordinates and address.
func open311Location(in *sportello.Open311RequestInput) *sportello.Location {
	l := &sportello.Location{Address: in.Address}
	if in.Latitude != nil {
		l.Latitude, l.Longitude = *in.Latitude, *in.Longitude
	}
	return l
}

type open311RequestRow struct {
	ticketRow
	ServiceCode string         `db:"service_code"`
	ServiceName string         `db:"service_name"`
	MediaURL    string         `db:"media_url"`
	OfficeName  sql.NullString `db:"office_name"`
}

// Open311Requests lists the tickets filed through Open311. See sportello.Open311Service.
func (s *Open311Service) Open311Requests(ctx context.Context, f sportello.Open311Filter) ([]*sportello.Open311Request, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := f.Validate(s.db.now()); err != nil {
		return nil, err
	}
	var a args
	conds := []string{"r.tenant_id = " + a.add(c.tenantID)}
	if len(f.IDs) > 0 {
		var years, seqs []int64
		for _, id := range f.IDs {
			if p, err := sportello.ParseOpen311RequestID(id); err == nil {
				years, seqs = append(years, int64(p.Year)), append(seqs, int64(p.Seq))
			}
		}
		if len(years) == 0 {
			return nil, nil
		}
		conds = append(conds, "(t.protocol_year, t.protocol_seq) IN (SELECT * FROM unnest("+
			a.add(pq.Array(years))+"::int[], "+a.add(pq.Array(seqs))+"::int[]))")
	} else {
		if len(f.ServiceCodes) > 0 {
			conds = append(conds, "r.service_code = ANY("+a.add(pq.Array(f.ServiceCodes))+")")
		}
		if st := f.StatusesOf(); len(f.Statuses) > 0 {
			conds = append(conds, "t.status = ANY("+a.add(pq.Array(st))+")")
		}
		if f.Start != nil {
			conds = append(conds, "t.created_at >= "+a.add(*f.Start))
		}
		if f.End != nil {
			conds = append(conds, "t.created_at <= "+a.add(*f.End))
		}
	}
	var rows []open311RequestRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+ticketColumns+`, r.service_code, r.service_name, r.media_url,
		o.name AS office_name
		FROM open311_requests r JOIN tickets t ON t.id = r.ticket_id LEFT JOIN offices o ON o.id = t.office_id
		WHERE `+strings.Join(conds, " AND ")+`
		ORDER BY t.created_at DESC, t.id DESC LIMIT `+a.add(sportello.Open311MaxRequests), a...); err != nil {
		return nil, fmt.Errorf("list open311 requests: %w", err)
	}
	out := make([]*sportello.Open311Request, len(rows))
	for i := range rows {
		out[i] = &sportello.Open311Request{Ticket: rows[i].ticket(), ServiceCode: rows[i].ServiceCode,
			ServiceName: rows[i].ServiceName, MediaURL: rows[i].MediaURL, AgencyResponsible: rows[i].OfficeName.String}
	}
	return out, nil
}

package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
)

// caller is who is calling, as the queries need it.
type caller struct {
	user     *sportello.User
	tenantID string
	staff    bool
	citizen  bool
	granted  []string // tickets an anonymous caller proved they filed
}

// callerFrom reads the caller from ctx. A context without a tenant serves nothing: it is a
// programming error in a transport, reported as INTERNAL rather than answered with the wrong
// municipality's data.
func callerFrom(ctx context.Context) (caller, error) {
	u := sportello.UserFrom(ctx)
	if u.TenantID == "" {
		return caller{}, errors.New("request has no tenant")
	}
	return caller{
		user:     u,
		tenantID: u.TenantID,
		staff:    !u.Anonymous() && u.IsStaff(),
		citizen:  !u.Anonymous() && u.HasRole(sportello.RoleCitizen),
		granted:  sportello.GrantedTickets(ctx),
	}, nil
}

// requireSignedIn returns the caller if they signed in (UNAUTHENTICATED otherwise) and allowed
// says they may go on (FORBIDDEN otherwise).
func requireSignedIn(ctx context.Context, allowed func(caller) bool) (caller, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return c, err
	}
	if c.user.Anonymous() {
		return c, sportello.ErrUnauthenticated
	}
	if !allowed(c) {
		return c, sportello.ErrForbidden
	}
	return c, nil
}

// requireStaff returns the caller if they are staff.
func requireStaff(ctx context.Context) (caller, error) {
	return requireSignedIn(ctx, func(c caller) bool { return c.staff })
}

// requireCitizen returns the caller if they are a signed-in citizen.
func requireCitizen(ctx context.Context) (caller, error) {
	return requireSignedIn(ctx, func(c caller) bool { return c.citizen })
}

// ticketScope returns the SQL condition on the tickets aliased t that the caller may see.
// Staff see the tenant's tickets; citizens their own; anonymous callers the ones they proved
// they filed in this request.
func (c caller) ticketScope(a *args) string {
	cond := "t.tenant_id = " + a.add(c.tenantID)
	switch {
	case c.staff:
		return cond
	case c.citizen:
		// The subquery names the tenant by value, not as t.tenant_id: uncorrelated, it runs
		// once before the scan and the citizen's tickets are read from tickets_citizen; a
		// correlated one is re-run for every ticket of the tenant.
		return cond + " AND t.citizen_id = (SELECT id FROM citizens WHERE tenant_id = " + a.add(c.tenantID) +
			" AND subject = " + a.add(c.user.Subject) + ")"
	default:
		return cond + " AND t.id = ANY(" + a.add(pq.Array(c.granted)) + "::uuid[])"
	}
}

// readScope is ticketScope for reading a ticket, its messages and history: citizens also read
// the tickets they follow (the public view: never internal notes, nor the author's details).
// Changes still need ticketScope, so that a follower cannot act on someone else's ticket.
func (c caller) readScope(a *args) string {
	if c.staff || !c.citizen {
		return c.ticketScope(a)
	}
	me := "(SELECT id FROM citizens WHERE tenant_id = t.tenant_id AND subject = " + a.add(c.user.Subject) + ")"
	return "t.tenant_id = " + a.add(c.tenantID) + " AND (t.citizen_id = " + me +
		" OR t.id IN (SELECT f.ticket_id FROM ticket_followers f WHERE f.citizen_id = " + me + "))"
}

const citizenColumns = `id, tenant_id, coalesce(subject, '') AS subject, given_name, family_name,
	coalesce(fiscal_code, '') AS fiscal_code, email, phone, created_at, updated_at`

type citizenRow struct {
	ID         string    `db:"id"`
	TenantID   string    `db:"tenant_id"`
	Subject    string    `db:"subject"`
	GivenName  string    `db:"given_name"`
	FamilyName string    `db:"family_name"`
	FiscalCode string    `db:"fiscal_code"`
	Email      string    `db:"email"`
	Phone      string    `db:"phone"`
	CreatedAt  time.Time `db:"created_at"`
	UpdatedAt  time.Time `db:"updated_at"`
}

func (r *citizenRow) citizen() *sportello.Citizen {
	return &sportello.Citizen{
		ID: r.ID, TenantID: r.TenantID, Subject: r.Subject, GivenName: r.GivenName,
		FamilyName: r.FamilyName, FiscalCode: r.FiscalCode, Email: r.Email, Phone: r.Phone,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

// ensureCitizen returns the signed-in citizen's record, creating it from the token's claims on
// first use. A person registered at the desk who signs in later with the same fiscal code is
// linked to that record rather than duplicated, so they find the tickets filed for them.
func ensureCitizen(ctx context.Context, q sqlx.ExtContext, c caller) (*sportello.Citizen, error) {
	var row citizenRow
	err := sqlx.GetContext(ctx, q, &row, `SELECT `+citizenColumns+` FROM citizens WHERE tenant_id = $1 AND subject = $2`,
		c.tenantID, c.user.Subject)
	if err == nil {
		return row.citizen(), nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("find citizen: %w", err)
	}
	if err := refuseErased(ctx, q, c); err != nil {
		return nil, err
	}
	u := c.user
	// A fiscal code claim that does not check out is left out rather than stored: the profile
	// still works, and the identity provider is the one to fix.
	fiscal, ferr := sportello.NormalizeFiscalCode("fiscalCode", u.FiscalCode)
	if ferr != nil {
		fiscal = ""
	}
	email, eerr := sportello.NormalizeEmail("email", u.Email)
	if eerr != nil {
		email = ""
	}
	if fiscal != "" {
		err = sqlx.GetContext(ctx, q, &row, `UPDATE citizens SET subject = $3,
			email = CASE WHEN email = '' THEN $4 ELSE email END, updated_at = now()
			WHERE tenant_id = $1 AND fiscal_code = $2 AND subject IS NULL AND erased_at IS NULL
			RETURNING `+citizenColumns, c.tenantID, fiscal, u.Subject, email)
		if err == nil {
			return row.citizen(), nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("link citizen: %w", err)
		}
	}
	err = sqlx.GetContext(ctx, q, &row, `INSERT INTO citizens (tenant_id, subject, given_name, family_name, fiscal_code, email)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT DO NOTHING
		RETURNING `+citizenColumns,
		c.tenantID, u.Subject, u.GivenName, u.FamilyName, nullString(fiscal), email)
	if err == nil {
		return row.citizen(), nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("create citizen: %w", err)
	}
	// Nothing was inserted: either a concurrent first request created the record, or another
	// account already holds this fiscal code.
	err = sqlx.GetContext(ctx, q, &row, `SELECT `+citizenColumns+` FROM citizens WHERE tenant_id = $1 AND subject = $2`,
		c.tenantID, u.Subject)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sportello.Errorf(sportello.CodeConflict, "another account is registered with your fiscal code: please contact the office")
	}
	if err != nil {
		return nil, fmt.Errorf("find citizen: %w", err)
	}
	return row.citizen(), nil
}

// errAccountErased refuses the tokens of a session opened before the account was erased.
var errAccountErased = sportello.Errorf(sportello.CodeUnauthenticated,
	"this account was erased: sign in again to open a new, empty one")

// refuseErased refuses a citizen without a record whose account was erased after they signed
// in: their token would otherwise re-create a profile from its claims, the very data they asked
// to erase. Signing in again, after the erasure, opens a new account. A token that does not say
// when its holder signed in is refused, as it may be from before.
func refuseErased(ctx context.Context, q sqlx.QueryerContext, c caller) error {
	var signedIn any
	if !c.user.SignedInAt.IsZero() {
		signedIn = c.user.SignedInAt
	}
	var erased bool
	if err := sqlx.GetContext(ctx, q, &erased, `SELECT EXISTS (SELECT 1 FROM erased_accounts
		WHERE tenant_id = $1 AND subject_hash = $2 AND ($3::timestamptz IS NULL OR erased_at > $3))`,
		c.tenantID, subjectHash(c.user.Subject), signedIn); err != nil {
		return fmt.Errorf("find erasure: %w", err)
	}
	if erased {
		return errAccountErased
	}
	return nil
}

// subjectHash is how an erased account's subject is kept: its SHA-256, which recognises the
// subject's tokens without naming the person.
func subjectHash(subject string) string {
	sum := sha256.Sum256([]byte(subject))
	return hex.EncodeToString(sum[:])
}

// ensureStaff returns the staff record of the signed-in staff member, creating it from the
// token on first use, so that histories and assignments can name them.
func ensureStaff(ctx context.Context, q sqlx.ExtContext, c caller) (*sportello.Staff, error) {
	var s staffRow
	const find = `SELECT ` + staffColumns + ` FROM staff WHERE tenant_id = $1 AND subject = $2`
	err := sqlx.GetContext(ctx, q, &s, find, c.tenantID, c.user.Subject)
	if err == nil {
		return s.staff(), nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("find staff: %w", err)
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO staff (tenant_id, subject, name, email) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING`, c.tenantID, c.user.Subject, c.user.DisplayName(), c.user.Email); err != nil {
		return nil, fmt.Errorf("create staff: %w", err)
	}
	if err := sqlx.GetContext(ctx, q, &s, find, c.tenantID, c.user.Subject); err != nil {
		return nil, fmt.Errorf("find staff: %w", err)
	}
	return s.staff(), nil
}

// actor returns who the caller is in histories, creating their record if needed. Staff act
// as staff even when they also hold the citizen role.
func actor(ctx context.Context, q sqlx.ExtContext, c caller) (sportello.Actor, error) {
	switch {
	case c.staff:
		s, err := ensureStaff(ctx, q, c)
		if err != nil {
			return sportello.Actor{}, err
		}
		return sportello.Actor{Kind: sportello.ActorStaff, ID: s.ID, Name: s.Name}, nil
	case c.citizen:
		cit, err := ensureCitizen(ctx, q, c)
		if err != nil {
			return sportello.Actor{}, err
		}
		return sportello.Actor{Kind: sportello.ActorCitizen, ID: cit.ID, Name: cit.FullName()}, nil
	default:
		return sportello.Actor{Kind: sportello.ActorAnonymous}, nil
	}
}

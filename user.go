package sportello

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Role is what a signed-in user may do. A user may hold several.
type Role string

// The roles of the office.
const (
	RoleCitizen   Role = "CITIZEN"
	RoleOperator  Role = "OPERATOR"
	RoleEditor    Role = "EDITOR"
	RoleYouthDesk Role = "YOUTH_DESK"
	RoleManager   Role = "MANAGER"
	RoleAdmin     Role = "ADMIN"
)

// Roles lists every role, in the order the schema declares them.
var Roles = []Role{RoleCitizen, RoleOperator, RoleEditor, RoleYouthDesk, RoleManager, RoleAdmin}

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// User is the caller of a request, as proven by their token. The zero User (no subject) is an
// anonymous caller.
type User struct {
	TenantID string
	Subject  string // the identity provider's stable id for the person
	Roles    []Role

	// Claims from the identity provider, used to create a citizen's profile on first use.
	GivenName  string
	FamilyName string
	FiscalCode string
	Email      string
	// SignedInAt is when the person signed in at the identity provider (the token's auth_time,
	// or its iat when it has none); zero when the token does not say. An account erased after
	// it is not re-opened by the token.
	SignedInAt time.Time
}

// Anonymous reports whether the caller did not sign in.
func (u *User) Anonymous() bool { return u == nil || u.Subject == "" }

// HasRole reports whether the user holds any of the roles.
func (u *User) HasRole(roles ...Role) bool {
	if u == nil {
		return false
	}
	for _, r := range roles {
		if slices.Contains(u.Roles, r) {
			return true
		}
	}
	return false
}

// IsStaff reports whether the user works at the office and may handle any ticket of the tenant.
func (u *User) IsStaff() bool { return u.HasRole(RoleOperator, RoleManager, RoleAdmin) }

// DisplayName is the name shown for the user in histories.
func (u *User) DisplayName() string {
	switch {
	case u == nil:
		return ""
	case u.GivenName != "" || u.FamilyName != "":
		return joinName(u.GivenName, u.FamilyName)
	case u.Email != "":
		return u.Email
	default:
		return u.Subject
	}
}

type userKey struct{}

// WithUser returns a context that carries the caller.
func WithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the caller carried by ctx. It never returns nil: a context without a user is
// an anonymous caller of no tenant, which every service refuses to serve data to.
func UserFrom(ctx context.Context) *User {
	if u, ok := ctx.Value(userKey{}).(*User); ok && u != nil {
		return u
	}
	return &User{}
}

func joinName(given, family string) string {
	switch {
	case given == "":
		return family
	case family == "":
		return given
	default:
		return given + " " + family
	}
}

// receiptGrants records the tickets an anonymous caller proved, in this request, that they
// filed (by presenting the protocol number and receipt code), so that the ticket's messages and
// history can be read in the same request.
type receiptGrants struct {
	mu  sync.Mutex
	ids []string
}

type grantsKey struct{}

// WithReceiptGrants returns a context in which GrantTicket can record proofs of filing. The
// transports install it once per request.
func WithReceiptGrants(ctx context.Context) context.Context {
	return context.WithValue(ctx, grantsKey{}, &receiptGrants{})
}

// GrantTicket records that the caller of this request proved they filed the ticket.
func GrantTicket(ctx context.Context, ticketID string) {
	if g, ok := ctx.Value(grantsKey{}).(*receiptGrants); ok {
		g.mu.Lock()
		if !slices.Contains(g.ids, ticketID) {
			g.ids = append(g.ids, ticketID)
		}
		g.mu.Unlock()
	}
}

// GrantedTickets returns the tickets the caller proved, in this request, that they filed.
func GrantedTickets(ctx context.Context) []string {
	if g, ok := ctx.Value(grantsKey{}).(*receiptGrants); ok {
		g.mu.Lock()
		defer g.mu.Unlock()
		return slices.Clone(g.ids)
	}
	return nil
}

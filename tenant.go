package sportello

import "context"

// DefaultTenantID is the tenant every deployment starts with, so that one municipality needs no
// set-up.
const DefaultTenantID = "00000000-0000-0000-0000-000000000001"

// TenantService finds the tenant (municipality) a request belongs to.
type TenantService interface {
	// TenantBySlug returns the id of the tenant with the slug. Errors: NOT_FOUND.
	TenantBySlug(ctx context.Context, slug string) (string, error)
	// TenantByHost returns the id of the tenant served at host. Errors: NOT_FOUND.
	TenantByHost(ctx context.Context, host string) (string, error)
}

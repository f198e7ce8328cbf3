// Package graph is the GraphQL transport: thin resolvers over the domain services, the @hasRole
// directive, per-request dataloaders, and the one place where errors become extensions.code.
package graph

import (
	"time"

	sportello "github.com/sportello/sportello"
)

// Resolver is the root of the resolvers: it holds the services every field calls.
type Resolver struct {
	TicketService  sportello.TicketService
	CitizenService sportello.CitizenService
	OfficeService  sportello.OfficeService
	HoursService   sportello.HoursService
	Dashboards     sportello.DashboardService
	Feed           sportello.Feed
	// CatalogueService and SearchService serve the information desk: services, procedures,
	// acts, and search across them and the offices.
	CatalogueService sportello.CatalogueService
	SearchService    sportello.SearchService

	RecordsAccessService sportello.RecordsAccessService
	// AppointmentService books the offices' desks.
	AppointmentService sportello.AppointmentService
	// NotificationService lists citizens' notifications; Topics streams topic events live.
	NotificationService sportello.NotificationService
	Topics              sportello.TopicFeed

	// ContentService and CampaignService serve institutional communication: web content with
	// its editorial workflow, and campaigns with their distribution logs.
	ContentService  sportello.ContentService
	CampaignService sportello.CampaignService

	// Now is the clock that decides whether a ticket is overdue; nil means time.Now. It must
	// be the services' clock, so that the overdue field agrees with the overdue filter.
	Now func() time.Time
}

func (r *Resolver) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

// optional returns nil for an empty string, so that absent values are null in GraphQL.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// deref returns the string a pointer points to, or "".
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

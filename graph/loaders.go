package graph

import (
	"context"
	"errors"
	"sync"
	"time"

	sportello "github.com/sportello/sportello"
	"github.com/vikstrous/dataloadgen"
)

// DefaultLoaderWait is how long a loader collects keys before it runs the batch. gqlgen resolves
// the fields of a list concurrently, so a millisecond gathers a whole page; the library's 16 ms
// default would add that much to every nested query.
const DefaultLoaderWait = time.Millisecond

// Loaders batch the relations of list fields into one query per relation and request, so that a
// page of 50 tickets with their citizen, office and messages costs a fixed number of statements.
type Loaders struct {
	citizens *dataloadgen.Loader[string, *sportello.Citizen]
	offices  *dataloadgen.Loader[string, *sportello.Office]
	staff    *dataloadgen.Loader[string, *sportello.Staff]
	messages *dataloadgen.Loader[string, []*sportello.Message]
	events   *dataloadgen.Loader[string, []*sportello.Event]
	// schedules are the clocks of offices by id, "" standing for the front desk.
	schedules *dataloadgen.Loader[string, *sportello.Schedule]
	slaClocks *dataloadgen.Loader[sportello.TargetKey, *slaClock]

	services   *dataloadgen.Loader[string, *sportello.Service]
	procedures *dataloadgen.Loader[string, *sportello.Procedure]
	acts       *dataloadgen.Loader[string, *sportello.Act]

	recordsAccess *dataloadgen.Loader[string, *sportello.RecordsAccess]

	bookingSettings *dataloadgen.Loader[string, *sportello.BookingSettings]

	contents      *dataloadgen.Loader[string, *sportello.Content]
	translations  *dataloadgen.Loader[string, []*sportello.Content] // by translation group
	distributions *dataloadgen.Loader[string, []*sportello.Distribution]
}

// NewLoaders returns the loaders of one request, which wait up to wait to gather a batch. They
// cache for the request only, so a client never reads another request's results.
func NewLoaders(r *Resolver, wait time.Duration) *Loaders {
	opts := []dataloadgen.Option{dataloadgen.WithWait(wait), dataloadgen.WithBatchCapacity(sportello.MaxPageSize)}
	return &Loaders{
		citizens: dataloadgen.NewMappedLoader(r.CitizenService.CitizensByID, opts...),
		offices:  dataloadgen.NewMappedLoader(r.OfficeService.OfficesByID, opts...),
		staff:    dataloadgen.NewMappedLoader(r.OfficeService.StaffByID, opts...),
		messages: dataloadgen.NewMappedLoader(r.TicketService.MessagesByTicket, opts...),
		events:   dataloadgen.NewMappedLoader(r.TicketService.EventsByTicket, opts...),

		schedules:     dataloadgen.NewMappedLoader(r.HoursService.Schedules, opts...),
		slaClocks:     dataloadgen.NewMappedLoader(r.slaClocks, opts...),
		services:      dataloadgen.NewMappedLoader(r.CatalogueService.ServicesByID, opts...),
		procedures:    dataloadgen.NewMappedLoader(r.CatalogueService.ProceduresByID, opts...),
		acts:          dataloadgen.NewMappedLoader(r.CatalogueService.ActsByID, opts...),
		recordsAccess: dataloadgen.NewMappedLoader(r.RecordsAccessService.RecordsAccessByTicket, opts...),

		bookingSettings: dataloadgen.NewMappedLoader(r.AppointmentService.BookingSettings, opts...),

		contents:      dataloadgen.NewMappedLoader(r.ContentService.ContentsByID, opts...),
		translations:  dataloadgen.NewMappedLoader(r.ContentService.TranslationsByGroup, opts...),
		distributions: dataloadgen.NewMappedLoader(r.CampaignService.DistributionsByCampaign, opts...),
	}
}

type loadersKey struct{}

// WithLoaders returns a context carrying the request's loaders.
func WithLoaders(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, loadersKey{}, l)
}

// lazyLoaders is what a response carries instead of its loaders: it creates them when a field
// first asks for them. Most responses need none (a subscription's event selects fields of the
// event and its ticket, which the feed delivers loaded), and a subscription's pending response
// waits, for as long as the subscriber is idle, with whatever its context carries.
type lazyLoaders struct {
	r    *Resolver
	wait time.Duration
	once sync.Once
	l    *Loaders
}

func (z *lazyLoaders) get() *Loaders {
	z.once.Do(func() { z.l = NewLoaders(z.r, z.wait) })
	return z.l
}

// withLazyLoaders returns a context whose loaders are created on first use, for one response.
func withLazyLoaders(ctx context.Context, r *Resolver, wait time.Duration) context.Context {
	return context.WithValue(ctx, loadersKey{}, &lazyLoaders{r: r, wait: wait})
}

func (r *Resolver) loaders(ctx context.Context) *Loaders {
	switch l := ctx.Value(loadersKey{}).(type) {
	case *lazyLoaders:
		return l.get()
	case *Loaders:
		return l
	}
	// A context without loaders (a caller outside the HTTP middleware) still gets correct
	// answers, only without batching across fields.
	return NewLoaders(r, DefaultLoaderWait)
}

// loadOne loads an optional relation: an empty id is null, and an id the caller may not see (or
// that vanished) is null too rather than an error that would fail the whole parent.
func loadOne[T any](ctx context.Context, l *dataloadgen.Loader[string, *T], id string) (*T, error) {
	if id == "" {
		return nil, nil
	}
	v, err := l.Load(ctx, id)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil, nil
	}
	return v, err
}

// loadList loads a list relation; an id with no rows is an empty list.
func loadList[T any](ctx context.Context, l *dataloadgen.Loader[string, []*T], id string) ([]*T, error) {
	v, err := l.Load(ctx, id)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return []*T{}, nil
	}
	return v, err
}

// schedule loads the clock of an office, or of the front desk for "": nil when there is none.
func (r *Resolver) schedule(ctx context.Context, officeID string) (*sportello.Schedule, error) {
	s, err := r.loaders(ctx).schedules.Load(ctx, officeID)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil, nil
	}
	return s, err
}

// slaClock is what a ticket's SLA is computed from: the schedule of its office (nil when there is
// none) and its first-response target.
type slaClock struct {
	schedule    *sportello.Schedule
	targetHours int
}

// slaClocks loads the clocks of a page of tickets in one batch, so that the SLA of a list costs
// the statements of Schedules and TargetHours once, whatever the number of tickets.
func (r *Resolver) slaClocks(ctx context.Context, keys []sportello.TargetKey) (map[sportello.TargetKey]*slaClock, error) {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.OfficeID
	}
	schedules, err := r.HoursService.Schedules(ctx, ids)
	if err != nil {
		return nil, err
	}
	hours, err := r.HoursService.TargetHours(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make(map[sportello.TargetKey]*slaClock, len(keys))
	for _, k := range keys {
		out[k] = &slaClock{schedule: schedules[k.OfficeID], targetHours: hours[k]}
	}
	return out, nil
}

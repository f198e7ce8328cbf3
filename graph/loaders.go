package graph

import (
	"context"
	"errors"
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
	tickets  *dataloadgen.Loader[string, *sportello.Ticket]
	citizens *dataloadgen.Loader[string, *sportello.Citizen]
	offices  *dataloadgen.Loader[string, *sportello.Office]
	staff    *dataloadgen.Loader[string, *sportello.Staff]
	messages *dataloadgen.Loader[string, []*sportello.Message]
	events   *dataloadgen.Loader[string, []*sportello.Event]

	recordsAccess *dataloadgen.Loader[string, *sportello.RecordsAccess]
}

// NewLoaders returns the loaders of one request, which wait up to wait to gather a batch. They
// cache for the request only, so a client never reads another request's results.
func NewLoaders(r *Resolver, wait time.Duration) *Loaders {
	opts := []dataloadgen.Option{dataloadgen.WithWait(wait), dataloadgen.WithBatchCapacity(sportello.MaxPageSize)}
	return &Loaders{
		tickets:  dataloadgen.NewMappedLoader(r.TicketService.TicketsByID, opts...),
		citizens: dataloadgen.NewMappedLoader(r.CitizenService.CitizensByID, opts...),
		offices:  dataloadgen.NewMappedLoader(r.OfficeService.OfficesByID, opts...),
		staff:    dataloadgen.NewMappedLoader(r.OfficeService.StaffByID, opts...),
		messages: dataloadgen.NewMappedLoader(r.TicketService.MessagesByTicket, opts...),
		events:   dataloadgen.NewMappedLoader(r.TicketService.EventsByTicket, opts...),

		recordsAccess: dataloadgen.NewMappedLoader(r.RecordsAccessService.RecordsAccessByTicket, opts...),
	}
}

type loadersKey struct{}

// WithLoaders returns a context carrying the request's loaders.
func WithLoaders(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, loadersKey{}, l)
}

func (r *Resolver) loaders(ctx context.Context) *Loaders {
	if l, ok := ctx.Value(loadersKey{}).(*Loaders); ok {
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

package graph

import (
	"context"
	"errors"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/graph/model"
)

// visibleContact is an anonymous filer's contact details for those who may read them: staff,
// and the filer (who reaches the ticket without signing in). Citizens following the ticket read
// it without them.
func (r *Resolver) visibleContact(ctx context.Context, t *sportello.Ticket) *sportello.Contact {
	if u := sportello.UserFrom(ctx); u.IsStaff() || u.Anonymous() {
		return t.Contact
	}
	return nil
}

// publicActor is who acted, as the caller may see them: a citizen who follows someone else's
// ticket does not learn its author's name.
func (r *Resolver) publicActor(ctx context.Context, a sportello.Actor) (*sportello.Actor, error) {
	u := sportello.UserFrom(ctx)
	if u.IsStaff() || a.Kind != sportello.ActorCitizen {
		return &a, nil
	}
	if !u.Anonymous() && u.HasRole(sportello.RoleCitizen) {
		me, err := r.loaders(ctx).me.Load(ctx, "")
		if err != nil {
			return nil, err
		}
		if me.ID == a.ID {
			return &a, nil
		}
	}
	return &sportello.Actor{Kind: a.Kind}, nil
}

func pointInput(p *model.GeoPointInput) *sportello.Point {
	if p == nil {
		return nil
	}
	return &sportello.Point{Latitude: p.Latitude, Longitude: p.Longitude}
}

func routingRuleInput(in model.RoutingRuleInput) sportello.RoutingRuleInput {
	out := sportello.RoutingRuleInput{Name: in.Name, Position: in.Position, Enabled: in.Enabled == nil || *in.Enabled,
		Default: in.Default != nil && *in.Default, Kinds: in.Kinds, Channels: in.Channels, Keywords: in.Keywords,
		OfficeID: in.OfficeID, AssigneeID: deref(in.AssigneeID)}
	if in.Strategy != nil {
		out.Strategy = *in.Strategy
	}
	if in.MaxOpenPerOperator != nil {
		out.MaxOpenPerOperator = *in.MaxOpenPerOperator
	}
	if in.Priority != nil {
		out.Priority = *in.Priority
	}
	if a := in.Area; a != nil {
		out.Area = &sportello.RoutingArea{Center: pointInput(a.Center)}
		if a.RadiusMeters != nil {
			out.Area.RadiusMeters = *a.RadiusMeters
		}
		for _, p := range a.Polygon {
			out.Area.Polygon = append(out.Area.Polygon, *pointInput(p))
		}
	}
	return out
}

// optionalTicket loads a related ticket, null when the caller may not see it.
func (r *Resolver) optionalTicket(ctx context.Context, id string) (*sportello.Ticket, error) {
	if id == "" {
		return nil, nil
	}
	t, err := r.TicketService.Ticket(ctx, id)
	var de *sportello.Error
	if errors.As(err, &de) && (de.Code == sportello.CodeNotFound || de.Code == sportello.CodeUnauthenticated) {
		return nil, nil
	}
	return t, err
}

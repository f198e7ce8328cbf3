package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	sportello "github.com/sportello/sportello"
	"github.com/vektah/gqlparser/v2/ast"
)

// selects returns the names of the fields the operation selects below the field being resolved,
// along path (edges, node for a connection's nodes), with fragments spread and @skip and
// @include applied. A resolver uses it to fetch in its own statement what its object's fields
// would otherwise each fetch in theirs.
func selects(ctx context.Context, path ...string) map[string]bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !graphql.HasOperationContext(ctx) {
		return nil
	}
	oc := graphql.GetOperationContext(ctx)
	sets := []ast.SelectionSet{fc.Field.Selections}
	for _, name := range path {
		var next []ast.SelectionSet
		for _, set := range sets {
			for _, f := range graphql.CollectFields(oc, set, nil) {
				if f.Name == name {
					next = append(next, f.Selections)
				}
			}
		}
		sets = next
	}
	out := map[string]bool{}
	for _, set := range sets {
		for _, f := range graphql.CollectFields(oc, set, nil) {
			out[f.Name] = true
		}
	}
	return out
}

// ticketRelations are the relations of tickets a selection asks for, and whether it reads only
// the fields that brief reads of tickets, citizens and offices answer.
func ticketRelations(ctx context.Context, path ...string) sportello.TicketRelations {
	fields := selects(ctx, path...)
	with := sportello.TicketRelations{Citizen: fields["citizen"], Office: fields["office"],
		Brief: within(fields, briefTicketFields), BriefBody: fields["body"]}
	if with.Citizen {
		with.BriefCitizen = within(selects(ctx, append(path, "citizen")...), briefCitizenFields)
	}
	if with.Office {
		office := selects(ctx, append(path, "office")...)
		with.OfficeHours = !within(office, officeFieldsWithoutHours)
		with.BriefOffice = within(office, briefOfficeFields)
	}
	return with
}

// within reports whether fields, a selection, asks for nothing but known; an unknown selection
// (nil) is not.
func within(fields, known map[string]bool) bool {
	if fields == nil {
		return false
	}
	for f := range fields {
		if !known[f] {
			return false
		}
	}
	return true
}

// officeFieldsWithoutHours are the fields of Office that a ticket's office answers without its
// opening hours; any other field (the hours, whether it is open, a future field) reads them.
var officeFieldsWithoutHours = map[string]bool{"__typename": true, "id": true, "name": true, "description": true,
	"email": true, "pec": true, "phone": true, "address": true, "head": true, "frontDesk": true}

// The fields that brief reads answer (see sportello.TicketRelations). Each is listed because it
// reads only the brief columns; any other field, including one added later, reads everything.
var (
	briefTicketFields = map[string]bool{"__typename": true, "id": true, "protocolNumber": true, "kind": true,
		"status": true, "subject": true, "body": true, "createdAt": true, "dueAt": true, "overdue": true,
		"citizen": true, "office": true, "messages": true}
	briefCitizenFields = map[string]bool{"__typename": true, "id": true, "givenName": true, "familyName": true,
		"fullName": true, "fiscalCode": true}
	briefOfficeFields = map[string]bool{"__typename": true, "id": true, "name": true}
)

// primeMessages reads the messages of a page of tickets at once when the selection asks for
// them, and gives them to the request's loader: the messages field of each ticket then finds
// them there instead of waiting for the loader to gather the page's keys.
func (r *Resolver) primeMessages(ctx context.Context, tickets []*sportello.Ticket) error {
	if len(tickets) == 0 {
		return nil
	}
	ids := make([]string, len(tickets))
	for i, t := range tickets {
		ids[i] = t.ID
	}
	messages, err := r.TicketService.MessagesByTicket(ctx, ids)
	if err != nil {
		return err
	}
	l := r.loaders(ctx).messages
	for _, id := range ids {
		list := messages[id]
		if list == nil {
			list = []*sportello.Message{}
		}
		l.Prime(id, list)
	}
	return nil
}

package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	sportello "github.com/sportello/sportello"
	"github.com/vektah/gqlparser/v2/ast"
)

// fieldsAt returns the fields the operation selects below the field being resolved, along path
// (edges, node for a connection's nodes), with fragments spread and @skip and @include applied.
// A resolver uses them to fetch in its own statement what its object's fields would otherwise
// each fetch in theirs. Without an operation in ctx it returns a nil context and no fields.
func fieldsAt(ctx context.Context, path ...string) (*graphql.OperationContext, []graphql.CollectedField) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !graphql.HasOperationContext(ctx) {
		return nil, nil
	}
	oc := graphql.GetOperationContext(ctx)
	fields := graphql.CollectFields(oc, fc.Field.Selections, nil)
	for _, name := range path {
		var sets []ast.SelectionSet
		for _, f := range fields {
			if f.Name == name {
				sets = append(sets, f.Selections)
			}
		}
		fields = collect(oc, sets)
	}
	return oc, fields
}

// collect returns the fields of sets, the selections of one field that a query names more than
// once (directly and in fragments) or of the fields along a path.
func collect(oc *graphql.OperationContext, sets []ast.SelectionSet) []graphql.CollectedField {
	if len(sets) == 1 {
		return graphql.CollectFields(oc, sets[0], nil)
	}
	var fields []graphql.CollectedField
	for _, set := range sets {
		fields = append(fields, graphql.CollectFields(oc, set, nil)...)
	}
	return fields
}

// ticketRelations are the relations of tickets a selection asks for, and whether it reads only
// the fields that brief reads of tickets, citizens and offices answer; and whether it asks for
// the tickets' messages. It walks the selection once, without building sets of names: a ticket
// read is a few hundred allocations in all, and this runs on every one.
func ticketRelations(ctx context.Context, path ...string) (with sportello.TicketRelations, messages bool) {
	oc, fields := fieldsAt(ctx, path...)
	if oc == nil {
		return with, false
	}
	var citizen, office []ast.SelectionSet
	with.Brief = true
	for _, f := range fields {
		switch f.Name {
		case "citizen":
			with.Citizen = true
			citizen = append(citizen, f.Selections)
		case "office":
			with.Office = true
			office = append(office, f.Selections)
		case "body":
			with.BriefBody = true
		case "messages":
			messages = true
		}
		with.Brief = with.Brief && briefTicketFields[f.Name]
	}
	if with.Citizen {
		with.BriefCitizen = only(collect(oc, citizen), briefCitizenFields)
	}
	if with.Office {
		fields := collect(oc, office)
		with.OfficeHours = !only(fields, officeFieldsWithoutHours)
		with.BriefOffice = only(fields, briefOfficeFields)
	}
	return with, messages
}

// only reports whether fields asks for nothing but known.
func only(fields []graphql.CollectedField, known map[string]bool) bool {
	for _, f := range fields {
		if !known[f.Name] {
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

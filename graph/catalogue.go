package graph

import (
	"context"
	"fmt"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/graph/model"
)

func serviceInput(in model.ServiceInput) sportello.ServiceInput {
	return sportello.ServiceInput{
		Slug: deref(in.Slug), Title: in.Title, Summary: in.Summary, Description: deref(in.Description),
		Audience: deref(in.Audience), OfficeID: deref(in.OfficeID), Eligibility: deref(in.Eligibility),
		Requirements: in.Requirements, Costs: deref(in.Costs), HowToApply: deref(in.HowToApply), Channels: in.Channels,
		OnlineURL: deref(in.OnlineURL), ExpectedTime: deref(in.ExpectedTime), LegalBasis: deref(in.LegalBasis),
		Topics: in.Topics, Status: derefStatus(in.Status),
	}
}

func procedureInput(in model.ProcedureInput) sportello.ProcedureInput {
	return sportello.ProcedureInput{
		Code: deref(in.Code), Name: in.Name, Description: deref(in.Description), LegalBasis: in.LegalBasis,
		OfficeID: in.OfficeID, Officer: deref(in.Officer), MaxDays: in.MaxDays,
		SilentConsent: in.SilentConsent != nil && *in.SilentConsent, Steps: in.Steps, Topics: in.Topics,
		Status: derefStatus(in.Status),
	}
}

func actInput(in model.ActInput) sportello.ActInput {
	out := sportello.ActInput{
		Type: in.Type, Number: in.Number, Date: in.Date, Title: in.Title, Summary: deref(in.Summary),
		OfficeID: deref(in.OfficeID), PublishedFrom: in.PublishedFrom, PublishedUntil: in.PublishedUntil,
		DocumentURL: deref(in.DocumentURL), Status: derefStatus(in.Status),
	}
	if in.Year != nil {
		out.Year = *in.Year
	}
	return out
}

func derefStatus(s *sportello.CatalogueStatus) sportello.CatalogueStatus {
	if s == nil {
		return ""
	}
	return *s
}

func serviceFilter(f *model.ServiceFilter) sportello.ServiceFilter {
	if f == nil {
		return sportello.ServiceFilter{}
	}
	return sportello.ServiceFilter{OfficeID: deref(f.OfficeID), Topic: deref(f.Topic), Statuses: f.Statuses}
}

func procedureFilter(f *model.ProcedureFilter) sportello.ProcedureFilter {
	if f == nil {
		return sportello.ProcedureFilter{}
	}
	return sportello.ProcedureFilter{OfficeID: deref(f.OfficeID), Topic: deref(f.Topic), Statuses: f.Statuses}
}

func actFilter(f *model.ActFilter) sportello.ActFilter {
	if f == nil {
		return sportello.ActFilter{}
	}
	out := sportello.ActFilter{Types: f.Types, OfficeID: deref(f.OfficeID), Statuses: f.Statuses, OnNoticeBoard: f.OnNoticeBoard}
	if f.Year != nil {
		out.Year = *f.Year
	}
	return out
}

func page(first *int, after *string) sportello.Page {
	p := sportello.Page{After: deref(after)}
	if first != nil {
		p.First = *first
	}
	return p
}

func pageInfo(cursors []string, hasNext bool) *model.PageInfo {
	info := &model.PageInfo{HasNextPage: hasNext}
	if n := len(cursors); n > 0 {
		info.EndCursor = &cursors[n-1]
	}
	return info
}

// searchItem loads the document of a hit through the request's loaders, so a page of hits
// costs one query per type of document rather than one per hit.
func (r *Resolver) searchItem(ctx context.Context, hit *sportello.SearchHit) (sportello.SearchItem, error) {
	l := r.loaders(ctx)
	switch hit.Type {
	case sportello.SearchTypeService:
		return nilIfAbsent(loadOne(ctx, l.services, hit.ID))
	case sportello.SearchTypeProcedure:
		return nilIfAbsent(loadOne(ctx, l.procedures, hit.ID))
	case sportello.SearchTypeAct:
		return nilIfAbsent(loadOne(ctx, l.acts, hit.ID))
	case sportello.SearchTypeOffice:
		return nilIfAbsent(loadOne(ctx, l.offices, hit.ID))
	case sportello.SearchTypeContent:
		return nilIfAbsent(loadOne(ctx, l.contents, hit.ID))
	default:
		return nil, fmt.Errorf("search item of unknown type %q", hit.Type)
	}
}

// nilIfAbsent returns a nil interface for a nil pointer, which gqlgen would otherwise try to
// render as a member of the union.
func nilIfAbsent[T sportello.SearchItem](v T, err error) (sportello.SearchItem, error) {
	var zero T
	if err != nil || any(v) == any(zero) {
		return nil, err
	}
	return v, nil
}

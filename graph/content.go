package graph

import (
	"context"
	"errors"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/graph/model"
	"github.com/vikstrous/dataloadgen"
)

func linkInputs(in []*model.LinkInput) []sportello.Link {
	out := make([]sportello.Link, len(in))
	for i, l := range in {
		out[i] = sportello.Link{URL: l.URL, Description: l.Description}
	}
	return out
}

func imageInput(in *model.ImageInput) *sportello.Image {
	if in == nil {
		return nil
	}
	return &sportello.Image{URL: in.URL, Alt: in.Alt}
}

func contentInput(in model.ContentInput) sportello.ContentInput {
	return sportello.ContentInput{
		Slug: deref(in.Slug), Path: deref(in.Path), Title: in.Title, Summary: deref(in.Summary), Body: deref(in.Body),
		Topics: in.Topics, OfficeID: deref(in.OfficeID), Attachments: linkInputs(in.Attachments), Cover: imageInput(in.Cover),
		EventStart: in.EventStart, EventEnd: in.EventEnd, EventPlace: deref(in.EventPlace), UnpublishAt: in.UnpublishAt,
	}
}

func newContentInput(in model.NewContentInput) sportello.NewContentInput {
	return sportello.NewContentInput{Type: in.Type, Language: deref(in.Language), TranslationOf: deref(in.TranslationOf),
		ContentInput: contentInput(model.ContentInput{
			Slug: in.Slug, Path: in.Path, Title: in.Title, Summary: in.Summary, Body: in.Body, Topics: in.Topics,
			OfficeID: in.OfficeID, Attachments: in.Attachments, Cover: in.Cover, EventStart: in.EventStart,
			EventEnd: in.EventEnd, EventPlace: in.EventPlace, UnpublishAt: in.UnpublishAt,
		})}
}

func contentFilter(f *model.ContentFilter) sportello.ContentFilter {
	if f == nil {
		return sportello.ContentFilter{}
	}
	return sportello.ContentFilter{Types: f.Types, Language: deref(f.Language), Topic: deref(f.Topic),
		OfficeID: deref(f.OfficeID), Statuses: f.Statuses, From: f.From, To: f.To, EventFrom: f.EventsFrom}
}

func campaignInput(in model.CampaignInput) sportello.CampaignInput {
	out := sportello.CampaignInput{Name: in.Name, Goal: deref(in.Goal), Audience: in.Audience, TargetGroups: in.TargetGroups,
		Channels: in.Channels, StartsOn: in.StartsOn, EndsOn: in.EndsOn, ContentIDs: in.ContentIds,
		ResultLinks: linkInputs(in.ResultLinks)}
	if in.Status != nil {
		out.Status = *in.Status
	}
	return out
}

func distributionInput(in model.DistributionInput) sportello.DistributionInput {
	return sportello.DistributionInput{Material: in.Material, ContentID: deref(in.ContentID), Channel: in.Channel,
		Place: in.Place, Copies: in.Copies, DeliveredOn: in.DeliveredOn, DeliveredBy: deref(in.DeliveredBy), Notes: deref(in.Notes)}
}

// optionalInt returns nil for 0, so that absent numbers are null in GraphQL.
func optionalInt(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}

// loadSome loads the items of ids in one batch, leaving out those the caller may not see (or
// that vanished) rather than failing the whole list.
func loadSome[T any](ctx context.Context, l *dataloadgen.Loader[string, *T], ids []string) ([]*T, error) {
	values, err := l.LoadAll(ctx, ids)
	var errs dataloadgen.ErrorSlice
	if err != nil && !errors.As(err, &errs) {
		return nil, err
	}
	out := make([]*T, 0, len(values))
	for i, v := range values {
		switch {
		case errs == nil || errs[i] == nil:
			out = append(out, v)
		case !errors.Is(errs[i], dataloadgen.ErrNotFound):
			return nil, errs[i]
		}
	}
	return out, nil
}

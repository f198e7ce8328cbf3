package graph

import (
	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/graph/model"
)

func intOr0(n *int) int {
	if n == nil {
		return 0
	}
	return *n
}

func opportunityInput(in model.OpportunityInput) (sportello.OpportunityInput, error) {
	loc, err := locationInput(in.Location)
	if err != nil {
		return sportello.OpportunityInput{}, err
	}
	out := sportello.OpportunityInput{
		Category: in.Category, Title: in.Title, Description: deref(in.Description), Organisation: deref(in.Organisation),
		Municipality: deref(in.Municipality), Region: deref(in.Region), Country: deref(in.Country),
		Remote: in.Remote != nil && *in.Remote, Location: loc, MinAge: intOr0(in.MinAge),
		MaxAge: intOr0(in.MaxAge), Languages: in.Languages, EducationLevel: deref(in.EducationLevel),
		StartDate: in.StartDate, EndDate: in.EndDate, Deadline: in.Deadline, HowToApply: deref(in.HowToApply),
		URL: deref(in.URL), Costs: deref(in.Costs), ExternalRef: deref(in.ExternalRef), Topics: in.Topics,
		OfficeID: deref(in.OfficeID),
	}
	if in.Source != nil {
		out.Source = *in.Source
	}
	return out, nil
}

func opportunityFilter(f *model.OpportunityFilter) sportello.OpportunityFilter {
	if f == nil {
		return sportello.OpportunityFilter{}
	}
	out := sportello.OpportunityFilter{
		OpportunityCriteria: sportello.OpportunityCriteria{Text: deref(f.Text), Categories: f.Categories,
			Country: deref(f.Country), Near: area(f.Near), Remote: f.Remote, Age: intOr0(f.Age), Language: deref(f.Language)},
		DeadlineFrom: f.DeadlineFrom, DeadlineTo: f.DeadlineTo, ClosingWithinDays: intOr0(f.ClosingWithinDays),
		Topic: deref(f.Topic), Statuses: f.Statuses,
	}
	if f.Sort != nil {
		out.Sort = *f.Sort
	}
	return out
}

func savedSearchInput(in model.SavedSearchInput) sportello.SavedSearchInput {
	return sportello.SavedSearchInput{Name: in.Name, Alerts: in.Alerts == nil || *in.Alerts,
		Criteria: sportello.OpportunityCriteria{Text: deref(in.Text), Categories: in.Categories, Country: deref(in.Country),
			Near: area(in.Near), Remote: in.Remote, Age: intOr0(in.Age), Language: deref(in.Language)}}
}

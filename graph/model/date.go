package model

import (
	"errors"

	"github.com/99designs/gqlgen/graphql"
	sportello "github.com/sportello/sportello"
)

// MarshalDate writes the Date scalar as YYYY-MM-DD.
func MarshalDate(d sportello.Date) graphql.Marshaler { return graphql.MarshalString(d.String()) }

// UnmarshalDate reads the Date scalar. Its errors name no field: gqlgen adds the argument's path,
// which the error presenter reports as the field at fault.
func UnmarshalDate(v any) (sportello.Date, error) {
	s, ok := v.(string)
	if !ok {
		return sportello.Date{}, errors.New("a Date is a string written YYYY-MM-DD")
	}
	d, err := sportello.ParseDate("", s)
	if err != nil {
		var e *sportello.Error
		if errors.As(err, &e) {
			return sportello.Date{}, errors.New(e.Message)
		}
		return sportello.Date{}, err
	}
	return d, nil
}

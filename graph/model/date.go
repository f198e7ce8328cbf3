package model

import (
	"errors"
	"io"
	"strconv"
	"time"

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

// MarshalCalendarDay writes a day kept as a time.Time as the Date scalar, YYYY-MM-DD. The day is
// read in Rome, which is right both for the catalogue's days (midnight UTC, still the same day in
// Rome) and for the records-access clock's (midnight in Rome).
func MarshalCalendarDay(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		io.WriteString(w, strconv.Quote(t.In(sportello.Rome).Format(time.DateOnly)))
	})
}

// UnmarshalCalendarDay reads the Date scalar as midnight UTC of that day.
func UnmarshalCalendarDay(v any) (time.Time, error) {
	d, err := UnmarshalDate(v)
	if err != nil {
		return time.Time{}, err
	}
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC), nil
}

package model

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	sportello "github.com/sportello/sportello"
)

// MarshalDate writes the Date scalar: a calendar day as YYYY-MM-DD, in Rome.
func MarshalDate(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		io.WriteString(w, strconv.Quote(t.In(sportello.Rome).Format(sportello.DateLayout)))
	})
}

// UnmarshalDate reads the Date scalar as midnight of the day in Rome.
func UnmarshalDate(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("a Date is a string YYYY-MM-DD, not %T", v)
	}
	t, err := time.ParseInLocation(sportello.DateLayout, s, sportello.Rome)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date YYYY-MM-DD", s)
	}
	return t, nil
}

package model

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	sportello "github.com/sportello/sportello"
)

// MarshalDate writes a calendar date as YYYY-MM-DD.
func MarshalDate(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		io.WriteString(w, strconv.Quote(t.Format(time.DateOnly)))
	})
}

// UnmarshalDate reads a calendar date written as YYYY-MM-DD, as midnight UTC of that day.
func UnmarshalDate(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, sportello.Errorf(sportello.CodeBadUserInput, "a date must be a string as YYYY-MM-DD")
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, sportello.Errorf(sportello.CodeBadUserInput, "%s", fmt.Sprintf("%q is not a date as YYYY-MM-DD", s))
	}
	return t, nil
}

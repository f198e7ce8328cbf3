package model

import (
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	sportello "github.com/sportello/sportello"
)

// MarshalTime writes an instant in RFC 3339 with the offset of Europe/Rome, the office's clock,
// so that "2026-11-17T09:20:00+01:00" reads as the appointment a citizen booked rather than as
// 08:20 UTC. The instant is the same whatever the offset.
func MarshalTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		io.WriteString(w, strconv.Quote(t.In(sportello.Rome).Format(time.RFC3339Nano)))
	})
}

// UnmarshalTime reads an instant in RFC 3339, with any offset.
func UnmarshalTime(v any) (time.Time, error) {
	return graphql.UnmarshalTime(v)
}

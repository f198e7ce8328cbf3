package db

import (
	"fmt"
	"time"

	sportello "github.com/sportello/sportello"
)

// Days go through PostgreSQL as text both ways, YYYY-MM-DD: columns of type date are selected
// with ::text and written with $n::date. A time.Time sent to or read from a date column would
// be converted in the session's time zone, which is not necessarily Rome's, and could move the
// day.

// dateArg writes an optional day for a date column (the placeholder is cast with ::date).
func dateArg(d *sportello.Date) any {
	if d == nil {
		return nil
	}
	return d.String()
}

// dateColumn reads a date column selected as text; Valid is false when it is NULL.
type dateColumn struct {
	Date  sportello.Date
	Valid bool
}

// Scan implements sql.Scanner.
func (c *dateColumn) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case nil:
		*c = dateColumn{}
		return nil
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("read date: %T is not text (select the column as ::text)", src)
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return fmt.Errorf("read date %q: %w", s, err)
	}
	*c = dateColumn{Date: sportello.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}, Valid: true}
	return nil
}

// ptr returns the day read, or nil for NULL.
func (c dateColumn) ptr() *sportello.Date {
	if !c.Valid {
		return nil
	}
	d := c.Date
	return &d
}

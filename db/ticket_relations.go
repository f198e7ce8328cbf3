package db

import (
	"context"
	"database/sql"
	"time"

	"github.com/jmoiron/sqlx"
	sportello "github.com/sportello/sportello"
)

// The relations of tickets are joined after the tickets are chosen (after the page's LIMIT),
// each through a lateral subquery over the same columns and in the same scope as
// CitizensByID and OfficesByID, renamed so that the audit's wrapping (audited) still finds the
// ticket's own id and citizen_id.
const (
	citizenJoinNames = `c(c_id, c_tenant_id, c_subject, c_given_name, c_family_name, c_fiscal_code, c_email, c_phone,
	c_created_at, c_updated_at)`
	officeJoinNames = `o(o_id, o_tenant_id, o_name, o_description, o_email, o_pec, o_phone, o_address, o_head,
	o_front_desk, o_hours)`

	// The columns of brief reads (TicketRelations.Brief, BriefCitizen, BriefOffice). A brief
	// ticket keeps what orders a page, makes its cursors and audits it.
	ticketBriefColumns = `t.id, t.tenant_id, t.protocol_year, t.protocol_seq, t.kind, t.status, t.subject,
	t.citizen_id, t.office_id, t.created_at, t.due_at, t.priority`
	citizenBriefColumns   = `id, given_name, family_name, coalesce(fiscal_code, '') AS fiscal_code`
	citizenBriefJoinNames = `c(c_id, c_given_name, c_family_name, c_fiscal_code)`
	officeBriefColumns    = `id, name`
	officeBriefJoinNames  = `o(o_id, o_name)`
)

// ticketColumnsFor returns the columns of tickets that a read with the relations with selects,
// in the order newTicketScanner scans them.
func ticketColumnsFor(with sportello.TicketRelations) string {
	switch {
	case !with.Brief:
		return ticketColumns
	case with.BriefBody:
		return ticketBriefColumns + `, t.body`
	}
	return ticketBriefColumns
}

// joinRelations returns query, which selects the columns ticketColumnsFor(with) of tickets, with
// the relations asked for joined to every row, in the order given (order names columns of the
// ticket). It also returns the relations it joined: a caller who may not see citizens gets none.
func joinRelations(c caller, with sportello.TicketRelations, query, order string, a *args) (string, sportello.TicketRelations) {
	with.Citizen = with.Citizen && (c.staff || c.citizen)
	if !with.Citizen && !with.Office {
		return query, with
	}
	sel, from := `SELECT t.*`, ` FROM (`+query+`) t`
	if with.Citizen {
		cond := `citizens.id = t.citizen_id AND citizens.tenant_id = ` + a.add(c.tenantID)
		if !c.staff {
			cond += ` AND citizens.subject = ` + a.add(c.user.Subject)
		}
		columns, names := citizenColumns, citizenJoinNames
		if with.BriefCitizen {
			columns, names = citizenBriefColumns, citizenBriefJoinNames
		}
		sel += `, c.*`
		from += ` LEFT JOIN LATERAL (SELECT ` + columns + ` FROM citizens WHERE ` + cond + `) ` + names + ` ON true`
	}
	if with.Office {
		columns, names := officeColumnsWithoutHours, officeJoinNames
		switch {
		case with.OfficeHours:
			columns = officeColumns
		case with.BriefOffice:
			columns, names = officeBriefColumns, officeBriefJoinNames
		}
		sel += `, o.*`
		from += ` LEFT JOIN LATERAL (SELECT ` + columns + ` FROM offices WHERE offices.id = t.office_id AND offices.tenant_id = ` +
			a.add(c.tenantID) + `) ` + names + ` ON true`
	}
	return sel + from + ` ORDER BY t.` + order, with
}

// orZero scans a column that an outer join may leave NULL into dst, which keeps its zero value
// for NULL.
type orZero[T any] struct{ dst *T }

func (z orZero[T]) Scan(src any) error {
	var v sql.Null[T]
	if err := v.Scan(src); err != nil {
		return err
	}
	*z.dst = v.V
	return nil
}

// ticketScanner reads rows of the columns of ticketColumnsFor followed by the columns of the
// relations joined by joinRelations. It scans into its fields by position rather than through
// sqlx's reflection, which was a tenth of the CPU of a list; offices repeat on a page, so each is
// built once.
type ticketScanner struct {
	with    sportello.TicketRelations
	row     ticketRow
	citizen citizenRow
	office  officeRow
	dest    []any
	offices map[string]*sportello.Office
}

func newTicketScanner(with sportello.TicketRelations) *ticketScanner {
	s := &ticketScanner{with: with}
	r := &s.row
	if with.Brief {
		s.dest = []any{&r.ID, &r.TenantID, &r.ProtocolYear, &r.ProtocolSeq, &r.Kind, &r.Status, &r.Subject,
			&r.CitizenID, &r.OfficeID, &r.CreatedAt, &r.DueAt, &r.Priority}
		if with.BriefBody {
			s.dest = append(s.dest, &r.Body)
		}
	} else {
		s.dest = []any{&r.ID, &r.TenantID, &r.ProtocolYear, &r.ProtocolSeq, &r.Kind, &r.Channel, &r.Status,
			&r.Subject, &r.Body, &r.CitizenID, &r.ContactName, &r.ContactEmail, &r.ContactPhone, &r.OfficeID,
			&r.AssigneeID, &r.StatusReason, &r.CreatedAt, &r.UpdatedAt, &r.DueAt, &r.ResolvedAt, &r.FirstRespondedAt,
			&r.Priority, &r.MergedInto, &r.Latitude, &r.Longitude, &r.Address}
	}
	if with.Citizen {
		c := &s.citizen
		if with.BriefCitizen {
			s.dest = append(s.dest, orZero[string]{&c.ID}, orZero[string]{&c.GivenName}, orZero[string]{&c.FamilyName},
				orZero[string]{&c.FiscalCode})
		} else {
			s.dest = append(s.dest, orZero[string]{&c.ID}, orZero[string]{&c.TenantID}, orZero[string]{&c.Subject},
				orZero[string]{&c.GivenName}, orZero[string]{&c.FamilyName}, orZero[string]{&c.FiscalCode},
				orZero[string]{&c.Email}, orZero[string]{&c.Phone}, orZero[time.Time]{&c.CreatedAt}, orZero[time.Time]{&c.UpdatedAt})
		}
	}
	if with.Office {
		o := &s.office
		if with.BriefOffice && !with.OfficeHours {
			s.dest = append(s.dest, orZero[string]{&o.ID}, orZero[string]{&o.Name})
		} else {
			s.dest = append(s.dest, orZero[string]{&o.ID}, orZero[string]{&o.TenantID}, orZero[string]{&o.Name},
				orZero[string]{&o.Description}, orZero[string]{&o.Email}, orZero[string]{&o.PEC}, orZero[string]{&o.Phone},
				orZero[string]{&o.Address}, orZero[string]{&o.Head}, orZero[bool]{&o.FrontDesk}, orZero[string]{&o.Hours})
		}
		s.offices = map[string]*sportello.Office{}
	}
	return s
}

// scan reads the current row; the ticketRow it returns is overwritten by the next scan.
func (s *ticketScanner) scan(rows *sqlx.Rows) (*ticketRow, *sportello.Ticket, error) {
	s.row, s.citizen, s.office = ticketRow{}, citizenRow{}, officeRow{}
	if err := rows.Scan(s.dest...); err != nil {
		return nil, nil, err
	}
	t := s.row.ticket()
	if s.citizen.ID != "" {
		t.Citizen = s.citizen.citizen()
	}
	if id := s.office.ID; id != "" {
		if t.Office = s.offices[id]; t.Office == nil {
			o, err := s.office.office()
			if err != nil {
				return nil, nil, err
			}
			s.offices[id], t.Office = o, o
		}
	}
	return &s.row, t, nil
}

// queryTickets runs a query of tickets, with the relations joinRelations joined, and returns
// each ticket with the row it was read from (for its cursor).
func queryTickets(ctx context.Context, q sqlx.QueryerContext, with sportello.TicketRelations, query string, a args,
	each func(*ticketRow, *sportello.Ticket)) error {
	rows, err := q.QueryxContext(ctx, query, a...)
	if err != nil {
		return err
	}
	defer rows.Close()
	s := newTicketScanner(with)
	for rows.Next() {
		row, t, err := s.scan(rows)
		if err != nil {
			return err
		}
		each(row, t)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}

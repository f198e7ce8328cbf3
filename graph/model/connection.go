package model

import sportello "github.com/sportello/sportello"

// TicketConnection is a page of tickets. It keeps the filter so that totalCount, which costs a
// query of its own, is computed only when a client asks for it.
type TicketConnection struct {
	Edges    []*TicketEdge
	PageInfo *PageInfo
	Filter   sportello.TicketFilter
}

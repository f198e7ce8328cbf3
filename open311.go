package sportello

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ChannelOpen311 is the channel of tickets filed by 311 apps and platforms through the Open311
// GeoReport v2 API.
const ChannelOpen311 Channel = "OPEN311"

// The service codes of the ticket categories that Open311 clients may file. Open311 filers are
// not identified (a 311 app has no SPID session to offer), so only the kinds that need no
// identity are offered: reports, the default, and suggestions.
const (
	Open311CodeReport     = "segnalazione"
	Open311CodeSuggestion = "suggerimento"
)

// Open311 limits, in characters.
const (
	// MaxOpen311DescriptionLen is the GeoReport v2 limit on a request's description.
	MaxOpen311DescriptionLen = 4000
	// MaxOpen311ClientNameLen bounds the name of a client application.
	MaxOpen311ClientNameLen = 100
	// MaxOpen311AttributeLen bounds one value of an attribute.
	MaxOpen311AttributeLen = 500
)

// The window and size of an Open311 list of requests when the client does not narrow it, as
// GeoReport v2 recommends.
const (
	Open311DefaultWindow = 90 * 24 * time.Hour
	Open311MaxRequests   = 1000
)

// Open311Client is an application allowed to file requests through Open311 with its API key.
type Open311Client struct {
	ID        string
	Name      string
	CreatedAt time.Time
	RevokedAt *time.Time
}

// IssuedOpen311Client is a newly created client with its API key, which is shown only this once:
// the store keeps a hash.
type IssuedOpen311Client struct {
	Client *Open311Client
	APIKey string
}

// Open311ServiceDef is a service as GeoReport v2 lists it: a ticket category, or a published
// service of the catalogue about which citizens report problems.
type Open311ServiceDef struct {
	Code        string
	Name        string
	Description string
	Group       string
	Keywords    []string
	// Kind is the kind of the tickets filed under this code.
	Kind Kind
	// OfficeID is the office that provides the catalogue service, which its tickets are
	// assigned to; empty for the categories.
	OfficeID string
	// Attributes are the questions the service asks beside the description.
	Attributes []*Open311Attribute
}

// Open311Attribute is a question of a service, answered in a request as attribute[CODE].
type Open311Attribute struct {
	Code        string
	Description string
	// DataType is a GeoReport v2 datatype: string, text, number, datetime, singlevaluelist or
	// multivaluelist.
	DataType string
	Required bool
	Values   []Open311Value // for the list types
}

// Open311Value is one answer of a list attribute.
type Open311Value struct {
	Key  string
	Name string
}

// CheckAttributes checks a request's attribute values against the service's questions: every
// required one answered, no unknown ones, list answers among the values. Errors:
// BAD_USER_INPUT naming attribute[CODE].
func (d *Open311ServiceDef) CheckAttributes(values map[string][]string) error {
	for code := range values {
		if !slices.ContainsFunc(d.Attributes, func(a *Open311Attribute) bool { return a.Code == code }) {
			return InvalidField("attribute["+code+"]", "service %s has no such attribute", d.Code)
		}
	}
	for _, a := range d.Attributes {
		field := "attribute[" + a.Code + "]"
		got := slices.DeleteFunc(slices.Clone(values[a.Code]), func(v string) bool { return strings.TrimSpace(v) == "" })
		switch {
		case len(got) == 0 && a.Required:
			return InvalidField(field, "is required")
		case len(got) > 1 && a.DataType != "multivaluelist":
			return InvalidField(field, "takes one value")
		}
		if a.DataType != "singlevaluelist" && a.DataType != "multivaluelist" {
			continue
		}
		for _, v := range got {
			if !slices.ContainsFunc(a.Values, func(x Open311Value) bool { return x.Key == v }) {
				return InvalidField(field, "%q is not one of the values", v)
			}
		}
	}
	return nil
}

// Open311 service groups.
const (
	Open311GroupCategories = "Segnalazioni e suggerimenti"
	Open311GroupServices   = "Servizi comunali"
)

// Open311Categories are the ticket categories every municipality offers through Open311.
var Open311Categories = []*Open311ServiceDef{
	{Code: Open311CodeReport, Name: "Segnalazione", Group: Open311GroupCategories, Kind: KindReport,
		Description: "Un disservizio o un problema sul territorio: buche, illuminazione, rifiuti, verde pubblico.",
		Keywords:    []string{"segnalazione", "disservizio", "guasto"},
		Attributes: []*Open311Attribute{{Code: "PERICOLO", Description: "C'è un pericolo per le persone?",
			DataType: "singlevaluelist", Values: []Open311Value{{Key: "si", Name: "Sì"}, {Key: "no", Name: "No"}}}}},
	{Code: Open311CodeSuggestion, Name: "Suggerimento", Group: Open311GroupCategories, Kind: KindSuggestion,
		Description: "Una proposta per migliorare un servizio del Comune.",
		Keywords:    []string{"suggerimento", "proposta"}},
}

// Open311RequestInput is a request as a 311 client posts it. Field names in errors are the
// GeoReport v2 parameter names, which is what the client sent.
type Open311RequestInput struct {
	APIKey      string
	ServiceCode string
	Latitude    *float64
	Longitude   *float64
	Address     string
	Description string
	// MediaURL is a link to a photo the client hosts. It is stored as a link and never fetched
	// by the server, which would otherwise fetch any address a client names (SSRF).
	MediaURL   string
	Email      string
	FirstName  string
	LastName   string
	Phone      string
	DeviceID   string
	AccountID  string
	Attributes map[string][]string
}

// Validate checks and normalizes the input except the service code, which the store resolves;
// it returns BAD_USER_INPUT naming the parameter at fault.
func (in *Open311RequestInput) Validate() error {
	in.ServiceCode = strings.TrimSpace(in.ServiceCode)
	if in.ServiceCode == "" {
		return InvalidField("service_code", "is required")
	}
	in.Address = strings.TrimSpace(in.Address)
	if err := checkLen("address_string", in.Address, 0, MaxAddressLen); err != nil {
		return err
	}
	switch {
	case (in.Latitude == nil) != (in.Longitude == nil):
		return InvalidField("lat", "give both lat and long, or neither")
	case in.Latitude == nil && in.Address == "":
		return InvalidField("lat", "a location is required: lat and long, or address_string")
	// Written so that NaN, which compares false with everything, fails too.
	case in.Latitude != nil && !(*in.Latitude >= -90 && *in.Latitude <= 90):
		return InvalidField("lat", "must be between -90 and 90")
	case in.Longitude != nil && !(*in.Longitude >= -180 && *in.Longitude <= 180):
		return InvalidField("long", "must be between -180 and 180")
	}
	in.Description = strings.TrimSpace(in.Description)
	if err := checkLen("description", in.Description, 0, MaxOpen311DescriptionLen); err != nil {
		return err
	}
	if in.MediaURL != "" {
		var err error
		if in.MediaURL, err = NormalizeURL("media_url", in.MediaURL); err != nil {
			return err
		}
	}
	var err error
	if in.Email, err = NormalizeEmail("email", in.Email); err != nil {
		return err
	}
	if in.Phone, err = NormalizePhone("phone", in.Phone); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"first_name", &in.FirstName}, {"last_name", &in.LastName}, {"device_id", &in.DeviceID}, {"account_id", &in.AccountID}} {
		*f.v = strings.TrimSpace(*f.v)
		if err := checkLen(f.name, *f.v, 0, MaxNameLen); err != nil {
			return err
		}
	}
	for code, values := range in.Attributes {
		for _, v := range values {
			if err := checkLen("attribute["+code+"]", v, 0, MaxOpen311AttributeLen); err != nil {
				return err
			}
		}
	}
	return nil
}

// Open311Request is a ticket as GeoReport v2 shows it.
type Open311Request struct {
	Ticket      *Ticket
	ServiceCode string
	ServiceName string
	MediaURL    string
	// AgencyResponsible is the name of the office the ticket is assigned to, if any.
	AgencyResponsible string
	// ReceiptCode is the secret with which the filer follows the ticket, only in the answer
	// to the request that filed it.
	ReceiptCode string
}

// Open311RequestID is a ticket's id in Open311: its protocol number with a dash instead of the
// slash, so that it fits in a URL path.
func Open311RequestID(p ProtocolNumber) string { return fmt.Sprintf("%d-%07d", p.Year, p.Seq) }

var open311IDPattern = regexp.MustCompile(`^(\d{4})-(\d{1,7})$`)

// ParseOpen311RequestID reads an id Open311RequestID wrote (or the protocol number itself).
// Errors: NOT_FOUND, since an id that cannot be one names no request.
func ParseOpen311RequestID(s string) (ProtocolNumber, error) {
	m := open311IDPattern.FindStringSubmatch(strings.Replace(strings.TrimSpace(s), "/", "-", 1))
	if m == nil {
		return ProtocolNumber{}, NotFound("service request")
	}
	year, _ := strconv.Atoi(m[1])
	seq, _ := strconv.Atoi(m[2])
	if seq == 0 {
		return ProtocolNumber{}, NotFound("service request")
	}
	return ProtocolNumber{Year: year, Seq: seq}, nil
}

// Open311Status is the GeoReport v2 status of a ticket: open while the office owes an answer.
func Open311Status(s Status) string {
	if s.Open() {
		return "open"
	}
	return "closed"
}

// open311StatusNotes say, in Italian, where the ticket stands in the workflow, which GeoReport
// v2's two statuses do not tell.
var open311StatusNotes = map[Status]string{
	StatusSubmitted:         "Ricevuta",
	StatusInProgress:        "In lavorazione",
	StatusWaitingForCitizen: "In attesa di integrazioni",
	StatusResolved:          "Risolta",
	StatusRejected:          "Respinta",
	StatusClosed:            "Chiusa",
}

// Open311StatusNotes returns the status_notes of a ticket: its detailed status and, when it
// was rejected, why.
func Open311StatusNotes(t *Ticket) string {
	note := open311StatusNotes[t.Status]
	if t.StatusReason != "" {
		note += ": " + t.StatusReason
	}
	return note
}

// Open311Filter narrows a list of requests. Zero fields do not filter.
type Open311Filter struct {
	IDs          []string // service_request_id
	ServiceCodes []string
	Start        *time.Time
	End          *time.Time
	Statuses     []string // open, closed
}

// Validate checks the filter and applies GeoReport v2's default window: without dates, the last
// 90 days. Errors: BAD_USER_INPUT.
func (f *Open311Filter) Validate(now time.Time) error {
	for _, s := range f.Statuses {
		if s != "open" && s != "closed" {
			return InvalidField("status", "must be open or closed, not %q", s)
		}
	}
	if f.Start != nil && f.End != nil && f.End.Before(*f.Start) {
		return InvalidField("end_date", "must not be before start_date")
	}
	if len(f.IDs) > 0 {
		// Asking for requests by id needs no window: GeoReport v2 ignores the other filters.
		return nil
	}
	if f.End == nil && f.Start == nil {
		end := now
		f.End = &end
	}
	if f.Start == nil {
		start := f.End.Add(-Open311DefaultWindow)
		f.Start = &start
	}
	return nil
}

// StatusesOf returns the workflow statuses an Open311 status filter selects.
func (f *Open311Filter) StatusesOf() []Status {
	var out []Status
	for _, s := range Statuses {
		if slices.Contains(f.Statuses, Open311Status(s)) {
			out = append(out, s)
		}
	}
	return out
}

// Open311Service serves the Open311 GeoReport v2 API and the administration of its clients.
type Open311Service interface {
	// CreateOpen311Client registers a client application and issues its API key. Errors:
	// BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN (ADMIN only).
	CreateOpen311Client(ctx context.Context, name string) (*IssuedOpen311Client, error)
	// RevokeOpen311Client revokes a client's key for good. Errors: UNAUTHENTICATED, FORBIDDEN,
	// NOT_FOUND.
	RevokeOpen311Client(ctx context.Context, id string) (*Open311Client, error)
	// Open311Clients lists the clients, newest first. Errors: UNAUTHENTICATED, FORBIDDEN.
	Open311Clients(ctx context.Context) ([]*Open311Client, error)
	// Open311Services lists the service codes: the ticket categories, then the catalogue's
	// published services by title. Anyone may call it.
	Open311Services(ctx context.Context) ([]*Open311ServiceDef, error)
	// SubmitOpen311Request files a ticket of channel OPEN311 for a client holding a valid API
	// key. Errors: BAD_USER_INPUT, FORBIDDEN (missing, unknown or revoked key), NOT_FOUND
	// (service_code).
	SubmitOpen311Request(ctx context.Context, in Open311RequestInput) (*Open311Request, error)
	// Open311Requests lists the tickets filed through Open311, newest first, at most
	// Open311MaxRequests. They are public, as GeoReport v2 has them, without the filer's
	// contact details. Errors: BAD_USER_INPUT.
	Open311Requests(ctx context.Context, f Open311Filter) ([]*Open311Request, error)
}

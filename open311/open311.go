// Package open311 is the Open311 GeoReport v2 transport (https://wiki.open311.org/GeoReport_v2):
// the HTTP API that 311 apps and platforms speak, in JSON and XML, over sportello.Open311Service.
// The caller's tenant must already be in the request's context.
package open311

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	sportello "github.com/sportello/sportello"
)

// Prefix is where the API is served.
const Prefix = "/open311/v2"

// Handler serves the GeoReport v2 API.
type Handler struct {
	svc sportello.Open311Service
	mux *http.ServeMux
	// contact is the discovery document's contact line.
	contact string
}

// NewHandler returns the API over svc. contact is the discovery document's contact line (who
// to ask for an API key).
func NewHandler(svc sportello.Open311Service, contact string) *Handler {
	h := &Handler{svc: svc, mux: http.NewServeMux(), contact: contact}
	h.mux.HandleFunc("GET "+Prefix+"/{file}", h.top)
	h.mux.HandleFunc("POST "+Prefix+"/{file}", h.top)
	h.mux.HandleFunc("GET "+Prefix+"/services/{file}", h.service)
	h.mux.HandleFunc("GET "+Prefix+"/requests/{file}", h.request)
	return h
}

// ServeHTTP serves the API; anything it does not know is a 404 in GeoReport's error format.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := h.mux.Handler(r); pattern == "" {
		writeErrors(w, formatOf(r.URL.Path), http.StatusNotFound, "no such resource: see "+Prefix+"/discovery.json")
		return
	}
	h.mux.ServeHTTP(w, r)
}

// format is the representation a resource is asked in, from the extension of its name.
type format string

const (
	formatJSON format = "json"
	formatXML  format = "xml"
)

// splitFormat reads "services.xml" as ("services", xml, true); names without a known extension
// are JSON, which is also how their errors are written.
func splitFormat(name string) (string, format, bool) {
	base, ext, ok := strings.Cut(name, ".")
	if !ok {
		return name, formatJSON, false
	}
	switch format(ext) {
	case formatJSON, formatXML:
		return base, format(ext), true
	}
	return name, formatJSON, false
}

// formatOf is the format of the last element of a path.
func formatOf(path string) format {
	_, f, _ := splitFormat(path[strings.LastIndexByte(path, '/')+1:])
	return f
}

func (h *Handler) top(w http.ResponseWriter, r *http.Request) {
	name, f, ok := splitFormat(r.PathValue("file"))
	switch {
	case !ok:
		writeErrors(w, f, http.StatusNotFound, "add .json or .xml to the resource's name")
	case name == "discovery" && r.Method == http.MethodGet:
		h.discovery(w, r, f)
	case name == "services" && r.Method == http.MethodGet:
		h.services(w, r, f)
	case name == "requests" && r.Method == http.MethodGet:
		h.requests(w, r, f)
	case name == "requests" && r.Method == http.MethodPost:
		h.post(w, r, f)
	default:
		writeErrors(w, f, http.StatusNotFound, "no such resource: see "+Prefix+"/discovery.json")
	}
}

type discoveryDoc struct {
	XMLName    xml.Name   `json:"-" xml:"discovery"`
	Changeset  string     `json:"changeset" xml:"changeset"`
	Contact    string     `json:"contact" xml:"contact"`
	KeyService string     `json:"key_service" xml:"key_service"`
	Endpoints  []endpoint `json:"endpoints" xml:"endpoints>endpoint"`
}

type endpoint struct {
	Specification string   `json:"specification" xml:"specification"`
	URL           string   `json:"url" xml:"url"`
	Changeset     string   `json:"changeset" xml:"changeset"`
	Type          string   `json:"type" xml:"type"`
	Formats       []string `json:"formats" xml:"formats>format"`
}

// changeset is when this API last changed in a way clients could notice.
const changeset = "2026-11-26T00:00:00+01:00"

func (h *Handler) discovery(w http.ResponseWriter, r *http.Request, f format) {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	write(w, f, http.StatusOK, discoveryDoc{Changeset: changeset, Contact: h.contact,
		KeyService: "Le chiavi API (api_key) sono rilasciate dall'amministratore del Comune. " + h.contact,
		Endpoints: []endpoint{{Specification: "http://wiki.open311.org/GeoReport_v2", URL: scheme + "://" + r.Host + Prefix,
			Changeset: changeset, Type: "production", Formats: []string{"text/xml", "application/json"}}}})
}

type serviceList struct {
	XMLName  xml.Name  `json:"-" xml:"services"`
	Services []service `xml:"service"`
}

type service struct {
	ServiceCode string `json:"service_code" xml:"service_code"`
	ServiceName string `json:"service_name" xml:"service_name"`
	Description string `json:"description" xml:"description"`
	Metadata    bool   `json:"metadata" xml:"metadata"`
	Type        string `json:"type" xml:"type"`
	Keywords    string `json:"keywords" xml:"keywords"`
	Group       string `json:"group" xml:"group"`
}

func (h *Handler) services(w http.ResponseWriter, r *http.Request, f format) {
	defs, err := h.svc.Open311Services(r.Context())
	if err != nil {
		writeError(w, r, f, err)
		return
	}
	out := serviceList{Services: make([]service, len(defs))}
	for i, d := range defs {
		// Every request is answered by a person, not at once: "realtime" in GeoReport's sense
		// means only that the request gets an id immediately.
		out.Services[i] = service{ServiceCode: d.Code, ServiceName: d.Name, Description: d.Description,
			Metadata: len(d.Attributes) > 0, Type: "realtime", Keywords: strings.Join(d.Keywords, ","), Group: d.Group}
	}
	write(w, f, http.StatusOK, jsonOrXML(f, out.Services, out))
}

type serviceDefinition struct {
	XMLName     xml.Name    `json:"-" xml:"service_definition"`
	ServiceCode string      `json:"service_code" xml:"service_code"`
	Attributes  []attribute `json:"attributes" xml:"attributes>attribute"`
}

type attribute struct {
	Variable            bool    `json:"variable" xml:"variable"`
	Code                string  `json:"code" xml:"code"`
	Datatype            string  `json:"datatype" xml:"datatype"`
	Required            bool    `json:"required" xml:"required"`
	DatatypeDescription string  `json:"datatype_description" xml:"datatype_description"`
	Order               int     `json:"order" xml:"order"`
	Description         string  `json:"description" xml:"description"`
	Values              []value `json:"values,omitempty" xml:"values>value,omitempty"`
}

type value struct {
	Key  string `json:"key" xml:"key"`
	Name string `json:"name" xml:"name"`
}

func (h *Handler) service(w http.ResponseWriter, r *http.Request) {
	code, f, ok := splitFormat(r.PathValue("file"))
	if !ok {
		writeErrors(w, f, http.StatusNotFound, "add .json or .xml to the service code")
		return
	}
	defs, err := h.svc.Open311Services(r.Context())
	if err != nil {
		writeError(w, r, f, err)
		return
	}
	for _, d := range defs {
		if d.Code != code {
			continue
		}
		out := serviceDefinition{ServiceCode: d.Code, Attributes: []attribute{}}
		for i, a := range d.Attributes {
			at := attribute{Variable: true, Code: a.Code, Datatype: a.DataType, Required: a.Required,
				Order: i + 1, Description: a.Description}
			for _, v := range a.Values {
				at.Values = append(at.Values, value{Key: v.Key, Name: v.Name})
			}
			out.Attributes = append(out.Attributes, at)
		}
		write(w, f, http.StatusOK, out)
		return
	}
	writeErrors(w, f, http.StatusNotFound, "service_code: no service has this code")
}

// post files a request: POST requests.{format}, form-encoded.
func (h *Handler) post(w http.ResponseWriter, r *http.Request, f format) {
	if err := r.ParseForm(); err != nil {
		writeErrors(w, f, http.StatusBadRequest, "the body must be application/x-www-form-urlencoded")
		return
	}
	in := sportello.Open311RequestInput{
		APIKey: r.Form.Get("api_key"), ServiceCode: r.Form.Get("service_code"), Address: r.Form.Get("address_string"),
		Description: r.Form.Get("description"), MediaURL: r.Form.Get("media_url"), Email: r.Form.Get("email"),
		FirstName: r.Form.Get("first_name"), LastName: r.Form.Get("last_name"), Phone: r.Form.Get("phone"),
		DeviceID: r.Form.Get("device_id"), AccountID: r.Form.Get("account_id"),
	}
	for _, p := range []struct {
		name string
		dst  **float64
	}{{"lat", &in.Latitude}, {"long", &in.Longitude}} {
		if s := strings.TrimSpace(r.Form.Get(p.name)); s != "" {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				writeErrors(w, f, http.StatusBadRequest, p.name+": is not a number")
				return
			}
			*p.dst = &v
		}
	}
	for k, vs := range r.Form {
		if code, ok := strings.CutPrefix(k, "attribute["); ok && strings.HasSuffix(code, "]") {
			if in.Attributes == nil {
				in.Attributes = map[string][]string{}
			}
			in.Attributes[strings.TrimSuffix(code, "]")] = vs
		}
	}
	req, err := h.svc.SubmitOpen311Request(r.Context(), in)
	if err != nil {
		writeError(w, r, f, err)
		return
	}
	notice := "Richiesta protocollata con il numero " + req.Ticket.ProtocolNumber() + "."
	if req.ReceiptCode != "" {
		notice += " Codice di ricevuta per seguirla sul portale: " + req.ReceiptCode + "."
	}
	out := []created{{ServiceRequestID: sportello.Open311RequestID(req.Ticket.Protocol), ServiceNotice: notice}}
	write(w, f, http.StatusCreated, jsonOrXML(f, out, createdList{Requests: out}))
}

type created struct {
	ServiceRequestID string  `json:"service_request_id" xml:"service_request_id"`
	ServiceNotice    string  `json:"service_notice" xml:"service_notice"`
	AccountID        *string `json:"account_id" xml:"account_id"`
}

type createdList struct {
	XMLName  xml.Name  `json:"-" xml:"service_requests"`
	Requests []created `xml:"request"`
}

type request struct {
	ServiceRequestID  string   `json:"service_request_id" xml:"service_request_id"`
	Status            string   `json:"status" xml:"status"`
	StatusNotes       string   `json:"status_notes" xml:"status_notes"`
	ServiceName       string   `json:"service_name" xml:"service_name"`
	ServiceCode       string   `json:"service_code" xml:"service_code"`
	Description       string   `json:"description" xml:"description"`
	AgencyResponsible string   `json:"agency_responsible" xml:"agency_responsible"`
	ServiceNotice     string   `json:"service_notice" xml:"service_notice"`
	RequestedDatetime string   `json:"requested_datetime" xml:"requested_datetime"`
	UpdatedDatetime   string   `json:"updated_datetime" xml:"updated_datetime"`
	ExpectedDatetime  string   `json:"expected_datetime" xml:"expected_datetime"`
	Address           string   `json:"address" xml:"address"`
	AddressID         string   `json:"address_id" xml:"address_id"`
	Zipcode           string   `json:"zipcode" xml:"zipcode"`
	Lat               *float64 `json:"lat" xml:"lat,omitempty"`
	Long              *float64 `json:"long" xml:"long,omitempty"`
	MediaURL          string   `json:"media_url" xml:"media_url"`
}

type requestList struct {
	XMLName  xml.Name  `json:"-" xml:"service_requests"`
	Requests []request `xml:"request"`
}

// w3c writes an instant as GeoReport's W3C date-times, in the municipality's time.
func w3c(t time.Time) string { return t.In(sportello.Rome).Format(time.RFC3339) }

func requestOf(req *sportello.Open311Request) request {
	t := req.Ticket
	out := request{ServiceRequestID: sportello.Open311RequestID(t.Protocol), Status: sportello.Open311Status(t.Status),
		StatusNotes: sportello.Open311StatusNotes(t), ServiceName: req.ServiceName, ServiceCode: req.ServiceCode,
		Description: t.Body, AgencyResponsible: req.AgencyResponsible, RequestedDatetime: w3c(t.CreatedAt),
		UpdatedDatetime: w3c(t.UpdatedAt), ExpectedDatetime: w3c(t.DueAt), MediaURL: req.MediaURL}
	if l := t.Location; l != nil {
		out.Address = l.Address
		if l.HasCoordinates() {
			lat, long := l.Latitude, l.Longitude
			out.Lat, out.Long = &lat, &long
		}
	}
	return out
}

func (h *Handler) requests(w http.ResponseWriter, r *http.Request, f format) {
	q := r.URL.Query()
	filter := sportello.Open311Filter{IDs: commaList(q.Get("service_request_id")),
		ServiceCodes: commaList(q.Get("service_code")), Statuses: commaList(q.Get("status"))}
	for _, p := range []struct {
		name string
		dst  **time.Time
	}{{"start_date", &filter.Start}, {"end_date", &filter.End}} {
		if s := q.Get(p.name); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				writeErrors(w, f, http.StatusBadRequest, p.name+": must be a W3C date-time such as 2026-11-26T09:00:00+01:00")
				return
			}
			*p.dst = &t
		}
	}
	h.list(w, r, f, filter, false)
}

func (h *Handler) request(w http.ResponseWriter, r *http.Request) {
	id, f, ok := splitFormat(r.PathValue("file"))
	if !ok {
		writeErrors(w, f, http.StatusNotFound, "add .json or .xml to the request's id")
		return
	}
	h.list(w, r, f, sportello.Open311Filter{IDs: []string{id}}, true)
}

// list writes the requests the filter selects; one asks for a single request, which is a 404
// when it does not exist.
func (h *Handler) list(w http.ResponseWriter, r *http.Request, f format, filter sportello.Open311Filter, one bool) {
	reqs, err := h.svc.Open311Requests(r.Context(), filter)
	if err != nil {
		writeError(w, r, f, err)
		return
	}
	if one && len(reqs) == 0 {
		writeErrors(w, f, http.StatusNotFound, "service_request_id: no such request")
		return
	}
	out := make([]request, len(reqs))
	for i, req := range reqs {
		out[i] = requestOf(req)
	}
	write(w, f, http.StatusOK, jsonOrXML(f, out, requestList{Requests: out}))
}

func commaList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// jsonOrXML picks the document of the format: GeoReport's JSON lists are bare arrays, its XML
// lists are wrapped in a root element.
func jsonOrXML(f format, jsonDoc, xmlDoc any) any {
	if f == formatXML {
		return xmlDoc
	}
	return jsonDoc
}

func write(w http.ResponseWriter, f format, status int, doc any) {
	if f == formatXML {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(status)
		w.Write([]byte(xml.Header))
		xml.NewEncoder(w).Encode(doc)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(doc)
}

type apiError struct {
	Code        int    `json:"code" xml:"code"`
	Description string `json:"description" xml:"description"`
}

type errorList struct {
	XMLName xml.Name   `json:"-" xml:"errors"`
	Errors  []apiError `xml:"error"`
}

// writeErrors writes GeoReport's error list with one error.
func writeErrors(w http.ResponseWriter, f format, status int, description string) {
	errs := []apiError{{Code: status, Description: description}}
	write(w, f, status, jsonOrXML(f, errs, errorList{Errors: errs}))
}

// statusOf is the HTTP status of each domain error code. GeoReport v2 answers a bad api_key
// with 403, and has no 401: a missing key is also 403.
var statusOf = map[sportello.Code]int{
	sportello.CodeBadUserInput:    http.StatusBadRequest,
	sportello.CodeUnauthenticated: http.StatusForbidden,
	sportello.CodeForbidden:       http.StatusForbidden,
	sportello.CodeNotFound:        http.StatusNotFound,
	sportello.CodeConflict:        http.StatusConflict,
}

// writeError writes a service's error: domain errors with their message (the parameter at
// fault first), anything else as an internal error with the request id, logged in full.
func writeError(w http.ResponseWriter, r *http.Request, f format, err error) {
	var de *sportello.Error
	if errors.As(err, &de) {
		if status, ok := statusOf[de.Code]; ok {
			msg := de.Message
			if de.Field != "" {
				msg = de.Field + ": " + msg
			}
			writeErrors(w, f, status, msg)
			return
		}
	}
	id := w.Header().Get("X-Request-Id")
	slog.ErrorContext(r.Context(), "open311", "request_id", id, "path", r.URL.Path, "error", err)
	writeErrors(w, f, http.StatusInternalServerError, "internal error (request "+id+")")
}

package graph

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// getTransport serves queries over GET as the GraphQL over HTTP specification says. gqlgen's own
// GET transport answers a mutation with 406; the specification requires 405 with Allow: POST,
// which also tells a cache or a crawler that the request must never be repeated by GET.
type getTransport struct{}

var _ graphql.Transport = getTransport{}

func (getTransport) Supports(r *http.Request) bool {
	return r.Method == http.MethodGet && r.Header.Get("Upgrade") == ""
}

func (getTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	contentType := responseContentType(r)
	w.Header().Set("Content-Type", contentType)
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeGetError(w, http.StatusBadRequest, "the query string could not be decoded")
		return
	}
	raw := &graphql.RawParams{
		Query:         query.Get("query"),
		OperationName: query.Get("operationName"),
		Headers:       r.Header,
	}
	raw.ReadTime.Start = graphql.Now()
	if v := query.Get("variables"); v != "" {
		if err := decodeJSON(v, &raw.Variables); err != nil {
			writeGetError(w, http.StatusBadRequest, "variables could not be decoded")
			return
		}
	}
	if v := query.Get("extensions"); v != "" {
		if err := decodeJSON(v, &raw.Extensions); err != nil {
			writeGetError(w, http.StatusBadRequest, "extensions could not be decoded")
			return
		}
	}
	raw.ReadTime.End = graphql.Now()

	rc, errs := exec.CreateOperationContext(r.Context(), raw)
	if errs != nil {
		status := http.StatusOK
		if contentType == graphQLResponseJSON && errcode.GetErrorKind(errs) == errcode.KindProtocol {
			status = http.StatusBadRequest
		}
		w.WriteHeader(status)
		writeResponse(w, exec.DispatchError(graphql.WithOperationContext(r.Context(), rc), errs))
		return
	}
	if op := rc.Doc.Operations.ForName(rc.OperationName); op == nil || op.Operation != ast.Query {
		w.Header().Set("Allow", http.MethodPost)
		writeGetError(w, http.StatusMethodNotAllowed, "only queries may be sent with GET: send mutations with POST")
		return
	}
	responses, ctx := exec.DispatchOperation(r.Context(), rc)
	writeResponse(w, responses(ctx))
}

// decodeJSON decodes numbers as json.Number, as gqlgen's transports do, so that large Int
// variables keep their precision.
func decodeJSON(s string, v any) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	return dec.Decode(v)
}

const graphQLResponseJSON = "application/graphql-response+json"

// responseContentType is the media type of the answer: application/graphql-response+json when
// the client accepts it, and the legacy application/json otherwise (and when it says nothing).
func responseContentType(r *http.Request) string {
	for part := range strings.SplitSeq(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case graphQLResponseJSON:
			return graphQLResponseJSON
		case "application/json":
			return "application/json"
		}
	}
	return "application/json"
}

func writeGetError(w http.ResponseWriter, status int, msg string) {
	w.WriteHeader(status)
	writeResponse(w, &graphql.Response{Errors: gqlerror.List{{Message: msg,
		Extensions: map[string]any{"code": "BAD_USER_INPUT"}}}})
}

// writeResponse writes a response. One with data alone, which is most of them, is written as
// the data between {"data": and } rather than encoded again: gqlgen's executor wrote the data
// as JSON already, and encoding/json would read all of it to check and compact it. The data is
// written where it lies, not copied after its prefix, and its length is known beforehand, so
// a long answer goes out with its Content-Length rather than in chunks.
func writeResponse(w http.ResponseWriter, resp *graphql.Response) {
	if len(resp.Data) > 0 && len(resp.Errors) == 0 && len(resp.Extensions) == 0 && resp.Label == "" &&
		resp.Path == nil && resp.HasNext == nil {
		w.Header().Set("Content-Length", strconv.Itoa(len(`{"data":`)+len(resp.Data)+len(`}`)))
		io.WriteString(w, `{"data":`)
		w.Write(resp.Data)
		io.WriteString(w, `}`)
		return
	}
	b, err := json.Marshal(resp)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Write(b)
}

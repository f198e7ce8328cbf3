package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	sportello "github.com/sportello/sportello"
)

var (
	pngPhoto = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{7}, 2000)...)
	pdfDoc   = []byte("%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n")
)

type upload struct {
	name string
	data []byte
}

// withUploads lets the server take multipart requests, as it does when configured.
func withUploads(c *Config) { c.MaxUploadBytes = DefaultMaxUploadBytes }

// multipart posts an operation with files as the GraphQL multipart request spec says: the
// operation, a map from each file to the variable it fills, and the files. path is the
// variable holding the list of files, such as "in.attachments".
func (s *testServer) multipart(token, query string, vars map[string]any, path string, files []upload) *gqlResponse {
	s.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	ops, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	w.WriteField("operations", string(ops))
	m := map[string][]string{}
	for i := range files {
		m[fmt.Sprint(i)] = []string{fmt.Sprintf("variables.%s.%d", path, i)}
	}
	mj, _ := json.Marshal(m)
	w.WriteField("map", string(mj))
	for i, f := range files {
		part, _ := w.CreateFormFile(fmt.Sprint(i), f.name)
		part.Write(f.data)
	}
	w.Close()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, s.URL+"/graphql", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := &gqlResponse{Status: res.StatusCode, Raw: string(raw)}
	if err := json.Unmarshal(raw, out); err != nil {
		s.t.Fatalf("decode response %q: %v", raw, err)
	}
	return out
}

// download fetches an attachment's url as the holder of token.
func (s *testServer) download(token, url string) (*http.Response, []byte) {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

type attachmentOut struct {
	ID, Filename, ContentType, Sha256, URL string
	Size                                   int
	MessageID                              *string
}

const submitWithFiles = `mutation($in: SubmitTicketInput!) { submitTicket(input: $in) {
	ticket { id attachments { id filename contentType size sha256 url messageId } } } }`

func TestCitizenAttachesFilesOnlyThoseWhoSeeTheTicketDownload(t *testing.T) {
	for _, store := range []string{"postgres", "dir"} {
		t.Run(store, func(t *testing.T) {
			s := startServer(t, withUploads, func(c *Config) {
				if store == "dir" {
					c.BlobStore = "dir:" + t.TempDir()
				}
			})
			citizen := s.token(sportello.RoleCitizen, "cit-1")
			other := s.token(sportello.RoleCitizen, "cit-2")
			operator := s.token(sportello.RoleOperator, "op-1")

			in := ticketInput("REPORT", "Buca in via Roma")
			in["attachments"] = []any{nil, nil}
			r := s.multipart(citizen, submitWithFiles, map[string]any{"in": in}, "in.attachments",
				[]upload{{"buca.png", pngPhoto}, {"verbale.pdf", pdfDoc}})
			if len(r.Errors) > 0 {
				t.Fatalf("submit: %s", r.Raw)
			}
			var out struct {
				SubmitTicket struct {
					Ticket struct {
						ID          string
						Attachments []attachmentOut
					}
				}
			}
			json.Unmarshal(r.Data, &out)
			atts := out.SubmitTicket.Ticket.Attachments
			if len(atts) != 2 || atts[0].ContentType != "image/png" || atts[0].Size != len(pngPhoto) ||
				atts[1].ContentType != "application/pdf" || atts[1].MessageID != nil {
				t.Fatalf("attachments = %+v", atts)
			}
			res, body := s.download(citizen, atts[0].URL)
			if res.StatusCode != http.StatusOK || !bytes.Equal(body, pngPhoto) ||
				res.Header.Get("Content-Type") != "image/png" || res.Header.Get("X-Content-Type-Options") != "nosniff" ||
				res.Header.Get("Content-Disposition") != `attachment; filename=buca.png` {
				t.Fatalf("download: %d %v", res.StatusCode, res.Header)
			}
			if res, _ := s.download(operator, atts[1].URL); res.StatusCode != http.StatusOK {
				t.Fatalf("operator download: %d", res.StatusCode)
			}
			for who, tok := range map[string]string{"another citizen": other, "anonymous": ""} {
				if res, body := s.download(tok, atts[0].URL); res.StatusCode != http.StatusNotFound {
					t.Fatalf("%s downloads: %d %s", who, res.StatusCode, body)
				}
			}
			if res, _ := s.download(citizen, "/attachments/not-an-id"); res.StatusCode != http.StatusNotFound {
				t.Fatalf("bad id: %d", res.StatusCode)
			}

			// A file on an internal note stays among staff.
			id := out.SubmitTicket.Ticket.ID
			const post = `mutation($id: ID!, $internal: Boolean, $files: [Upload!]) {
				postTicketMessage(ticketId: $id, body: "Allegato", internal: $internal, attachments: $files) { id } }`
			r = s.multipart(operator, post, map[string]any{"id": id, "internal": true, "files": []any{nil}}, "files",
				[]upload{{"nota.txt", []byte("Solo per l'ufficio")}})
			if len(r.Errors) > 0 {
				t.Fatalf("internal note: %s", r.Raw)
			}
			r = s.multipart(operator, post, map[string]any{"id": id, "internal": false, "files": []any{nil}}, "files",
				[]upload{{"risposta.pdf", pdfDoc}})
			if len(r.Errors) > 0 {
				t.Fatalf("reply: %s", r.Raw)
			}
			const read = `query($id: ID!) { ticket(id: $id) { attachments { filename url messageId } } }`
			var seen struct {
				Ticket struct{ Attachments []attachmentOut }
			}
			s.ok(operator, read, map[string]any{"id": id}, &seen)
			if len(seen.Ticket.Attachments) != 4 {
				t.Fatalf("staff see %+v", seen.Ticket.Attachments)
			}
			note := seen.Ticket.Attachments[2]
			s.ok(citizen, read, map[string]any{"id": id}, &seen)
			if len(seen.Ticket.Attachments) != 3 || seen.Ticket.Attachments[2].Filename != "risposta.pdf" ||
				seen.Ticket.Attachments[2].MessageID == nil {
				t.Fatalf("citizen sees %+v", seen.Ticket.Attachments)
			}
			if res, _ := s.download(citizen, note.URL); res.StatusCode != http.StatusNotFound {
				t.Fatalf("citizen downloads an internal note's file: %d", res.StatusCode)
			}
		})
	}
}

func TestUploadLimitsAreCheckedOnContent(t *testing.T) {
	s := startServer(t, withUploads)
	citizen := s.token(sportello.RoleCitizen, "cit-1")
	cases := []struct {
		name  string
		files []upload
		field string
	}{
		{"too large", []upload{{"foto.png", append(pngPhoto, make([]byte, sportello.MaxAttachmentSize)...)}}, "attachments.0"},
		{"a photo named as a PDF", []upload{{"buca.png", pngPhoto}, {"documento.pdf", pngPhoto}}, "attachments.1"},
		{"a web page named as text", []upload{{"nota.txt", []byte("<html><script>alert(1)</script></html>")}}, "attachments.0"},
		{"a program", []upload{{"foto.jpg", []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00")}}, "attachments.0"},
		{"too many", []upload{{"1.png", pngPhoto}, {"2.png", pngPhoto}, {"3.png", pngPhoto}, {"4.png", pngPhoto},
			{"5.png", pngPhoto}, {"6.png", pngPhoto}}, "attachments"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := ticketInput("REPORT", "Buca")
			in["attachments"] = make([]any, len(c.files))
			r := s.multipart(citizen, submitWithFiles, map[string]any{"in": in}, "in.attachments", c.files)
			if len(r.Errors) == 0 || r.Errors[0].Extensions.Code != string(sportello.CodeBadUserInput) ||
				r.Errors[0].Extensions.Field != c.field {
				t.Fatalf("expected BAD_USER_INPUT on %s, got %s", c.field, r.Raw)
			}
		})
	}
	if n := s.count(`SELECT count(*) FROM tickets`) + s.count(`SELECT count(*) FROM attachments`) + s.count(`SELECT count(*) FROM blobs`); n != 0 {
		t.Fatalf("refused uploads wrote %d rows", n)
	}
	// A request larger than every file a ticket may carry is refused before it is read.
	big := make([]upload, 6)
	for i := range big {
		big[i] = upload{fmt.Sprintf("%d.txt", i), []byte(strings.Repeat("a", sportello.MaxAttachmentSize))}
	}
	in := ticketInput("REPORT", "Buca")
	in["attachments"] = make([]any, len(big))
	if r := s.multipart(citizen, submitWithFiles, map[string]any{"in": in}, "in.attachments", big); r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized request: %d %s", r.Status, r.Raw)
	}
}

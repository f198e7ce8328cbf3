package sportello

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Attachment limits.
const (
	// MaxAttachmentSize is the largest file accepted: a phone photo or a scanned document.
	MaxAttachmentSize = 10 << 20
	// MaxAttachments is how many files one ticket or message may carry.
	MaxAttachments = 5
	// MaxFilenameLen bounds a file's name, in characters.
	MaxFilenameLen = 200
)

// AttachmentTypes are the content types accepted, each with the extensions its files may have.
// The type is read from the content, never taken from the name or the client: a file whose
// content is not one of these, or whose name says otherwise, is refused.
var AttachmentTypes = map[string][]string{
	"image/jpeg":      {".jpg", ".jpeg"},
	"image/png":       {".png"},
	"image/webp":      {".webp"},
	"application/pdf": {".pdf"},
	"text/plain":      {".txt"},
	"application/vnd.oasis.opendocument.text":                                   {".odt"},
	"application/vnd.oasis.opendocument.spreadsheet":                            {".ods"},
	"application/vnd.oasis.opendocument.presentation":                           {".odp"},
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   {".docx"},
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         {".xlsx"},
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": {".pptx"},
}

// Upload is a file as a channel received it, before it is checked.
type Upload struct {
	Filename string
	Data     []byte
}

// Attachment is a file on a ticket or on one of its messages. Its content is kept in a
// BlobStore under BlobKey.
type Attachment struct {
	ID          string
	TenantID    string
	TicketID    string
	MessageID   string // empty for files filed with the ticket
	Filename    string
	ContentType string
	Size        int
	SHA256      string // hex
	CreatedAt   time.Time
}

// BlobKey is where the content of a file with this hash is kept: by tenant and content, so that
// the same file attached twice is stored once.
func BlobKey(tenantID, sha string) string { return tenantID + "/" + sha }

// CheckedUpload is an upload that passed CheckUploads, with what was learned of its content.
type CheckedUpload struct {
	Filename    string
	ContentType string
	SHA256      string
	Data        []byte
}

// CheckUploads checks the files of a ticket or message: their number, size and content type
// (sniffed from the content, and agreeing with the name's extension). Errors: BAD_USER_INPUT
// naming field, or field.N for the file at fault.
func CheckUploads(field string, uploads []*Upload) ([]*CheckedUpload, error) {
	if len(uploads) > MaxAttachments {
		return nil, InvalidField(field, "at most %d files", MaxAttachments)
	}
	out := make([]*CheckedUpload, 0, len(uploads))
	for i, u := range uploads {
		f := field + "." + strconv.Itoa(i)
		if len(u.Data) == 0 {
			return nil, InvalidField(f, "the file is empty")
		}
		if len(u.Data) > MaxAttachmentSize {
			return nil, InvalidField(f, "files must be at most %d MiB", MaxAttachmentSize>>20)
		}
		name := CleanFilename(u.Filename)
		if name == "" {
			return nil, InvalidField(f, "the file needs a name")
		}
		ct := SniffContentType(u.Data)
		exts, ok := AttachmentTypes[ct]
		if !ok {
			return nil, InvalidField(f, "only photos (JPEG, PNG, WebP), PDF, plain text and OpenDocument or Office documents are accepted")
		}
		if !slices.Contains(exts, strings.ToLower(path.Ext(name))) {
			return nil, InvalidField(f, "the content is %s, which the name %q does not say", ct, name)
		}
		sum := sha256.Sum256(u.Data)
		out = append(out, &CheckedUpload{Filename: name, ContentType: ct, SHA256: hex.EncodeToString(sum[:]), Data: u.Data})
	}
	return out, nil
}

// CleanFilename keeps the last element of a name a client sent, without control characters or
// path separators, bounded in length: it ends up in a Content-Disposition header and on disk
// names of people's downloads.
func CleanFilename(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = name[strings.LastIndexByte(name, '/')+1:]
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '"' || r == utf8.RuneError {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "." || name == ".." {
		return ""
	}
	if r := []rune(name); len(r) > MaxFilenameLen {
		ext := path.Ext(name)
		name = string(r[:MaxFilenameLen-utf8.RuneCountInString(ext)]) + ext
	}
	return name
}

// SniffContentType reads a file's type from its content: the standard sniffing algorithm, then,
// for ZIP files, the OpenDocument and Office Open XML formats inside them; plain text must be
// valid UTF-8 and not markup. Its result is one of AttachmentTypes or "application/octet-stream".
func SniffContentType(data []byte) string {
	ct, _, _ := strings.Cut(http.DetectContentType(data), ";")
	switch ct {
	case "application/zip":
		return sniffZip(data)
	case "text/plain":
		// Markup the sniffer does not know (SVG, XHTML) reads as text: it is not plain text,
		// and a browser told otherwise could run its scripts.
		if !utf8.Valid(data) || bytes.HasPrefix(bytes.TrimSpace(data), []byte("<")) {
			return "application/octet-stream"
		}
	case "image/jpeg", "image/png", "image/webp", "application/pdf":
	default:
		return "application/octet-stream"
	}
	return ct
}

// sniffZip tells OpenDocument files (whose first entry, "mimetype", holds their type) and
// Office Open XML files (a [Content_Types].xml beside a word/, xl/ or ppt/ folder) from other
// ZIP files.
func sniffZip(data []byte) string {
	const unknown = "application/octet-stream"
	r, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil || len(r.File) == 0 {
		return unknown
	}
	if first := r.File[0]; first.Name == "mimetype" && first.Method == zip.Store && first.UncompressedSize64 < 100 {
		rc, err := first.Open()
		if err != nil {
			return unknown
		}
		var b [100]byte
		n, _ := rc.Read(b[:])
		rc.Close()
		mt := string(b[:n])
		if _, ok := AttachmentTypes[mt]; ok && strings.HasPrefix(mt, "application/vnd.oasis.") {
			return mt
		}
		return unknown
	}
	var types bool
	var kind string
	for _, f := range r.File {
		switch {
		case f.Name == "[Content_Types].xml":
			types = true
		case strings.HasPrefix(f.Name, "word/"):
			kind = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
		case strings.HasPrefix(f.Name, "xl/"):
			kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		case strings.HasPrefix(f.Name, "ppt/"):
			kind = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
		}
	}
	if types && kind != "" {
		return kind
	}
	return unknown
}

// BlobStore keeps the content of files outside the main tables. Keys are BlobKey values.
type BlobStore interface {
	// Put stores data under key; storing the same key again is harmless, since the key names
	// the content.
	Put(ctx context.Context, key string, data []byte) error
	// Get returns the content under key. Errors: NOT_FOUND.
	Get(ctx context.Context, key string) ([]byte, error)
}

// AttachmentService reads attachments for those who may see their ticket.
type AttachmentService interface {
	// AttachmentsByTicket returns the attachments of the tickets among ids that the caller
	// may see, oldest first; citizens never see those of internal notes.
	AttachmentsByTicket(ctx context.Context, ticketIDs []string) (map[string][]*Attachment, error)
	// Attachment returns an attachment and its content. Errors: NOT_FOUND, also when the
	// caller may not see its ticket or its message.
	Attachment(ctx context.Context, id string) (*Attachment, []byte, error)
}

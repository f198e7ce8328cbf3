package graph

import (
	"io"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	sportello "github.com/sportello/sportello"
)

// AttachmentPath is where attachments are downloaded, followed by their id.
const AttachmentPath = "/attachments/"

// readUploads reads the files of a multipart request. Each is read up to one byte past the
// largest accepted size, enough for CheckUploads to refuse it without holding more of it.
func readUploads(files []*graphql.Upload) ([]*sportello.Upload, error) {
	out := make([]*sportello.Upload, 0, len(files))
	for i, f := range files {
		data, err := io.ReadAll(io.LimitReader(f.File, sportello.MaxAttachmentSize+1))
		if err != nil {
			return nil, sportello.InvalidField("attachments."+strconv.Itoa(i), "the file could not be read")
		}
		out = append(out, &sportello.Upload{Filename: f.Filename, Data: data})
	}
	return out, nil
}

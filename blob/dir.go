// Package blob keeps attachment contents in a directory: the filesystem sportello.BlobStore,
// for deployments that prefer files (or a mounted object store) to rows.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"

	sportello "github.com/sportello/sportello"
)

// Dir stores each content in a file under its root, named by its key.
type Dir struct {
	root string
}

// NewDir returns the store rooted at root, creating the directory if needed.
func NewDir(root string) (*Dir, error) {
	if err := os.MkdirAll(root, 0o750); err != nil {
		return nil, fmt.Errorf("blob directory: %w", err)
	}
	return &Dir{root: root}, nil
}

var _ sportello.BlobStore = (*Dir)(nil)

// keyPattern is what sportello.BlobKey writes: a tenant id and a sha256 in hex. Nothing else
// becomes a path, so a key can never name a file outside the root.
var keyPattern = regexp.MustCompile(`^[0-9a-f-]{36}/[0-9a-f]{64}$`)

func (d *Dir) path(key string) (string, error) {
	if !keyPattern.MatchString(key) {
		return "", fmt.Errorf("blob key %q is not a tenant and a sha256", key)
	}
	return filepath.Join(d.root, filepath.FromSlash(key)), nil
}

// Put writes data under key, through a temporary file renamed into place, so that a reader
// never sees half a file. See sportello.BlobStore.
func (d *Dir) Put(ctx context.Context, key string, data []byte) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("put blob: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("put blob: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	if err := os.Rename(f.Name(), p); err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	return nil
}

// Get reads the content under key. See sportello.BlobStore.
func (d *Dir) Get(ctx context.Context, key string) ([]byte, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, sportello.NotFound("file")
	}
	if err != nil {
		return nil, fmt.Errorf("get blob: %w", err)
	}
	return data, nil
}

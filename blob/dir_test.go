package blob

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	sportello "github.com/sportello/sportello"
)

func TestDirStoresByKeyAndRefusesKeysThatAreNotOne(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d, err := NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	key := sportello.BlobKey(sportello.DefaultTenantID, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
	if _, err := d.Get(ctx, key); sportello.ErrorCode(err) != sportello.CodeNotFound {
		t.Fatalf("missing blob: %v", err)
	}
	for range 2 {
		if err := d.Put(ctx, key, []byte("test")); err != nil {
			t.Fatal(err)
		}
	}
	got, err := d.Get(ctx, key)
	if err != nil || !bytes.Equal(got, []byte("test")) {
		t.Fatalf("Get = %q, %v", got, err)
	}
	entries, _ := os.ReadDir(filepath.Join(root, sportello.DefaultTenantID))
	if len(entries) != 1 {
		t.Fatalf("the tenant's directory holds %d files, want 1 (no temporary file left)", len(entries))
	}
	for _, bad := range []string{"../../etc/passwd", sportello.DefaultTenantID + "/../x", "a/b"} {
		if err := d.Put(ctx, bad, []byte("x")); err == nil {
			t.Fatalf("Put(%q) succeeded", bad)
		}
		if _, err := d.Get(ctx, bad); err == nil {
			t.Fatalf("Get(%q) succeeded", bad)
		}
	}
}

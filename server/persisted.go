package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/sportello/sportello/db"
)

// persistedCmd is `server persisted register FILE [--client NAME]`: it adds the operations of a
// manifest, a JSON object from operation name to query text (what the app's build extracts), to
// the client's allow-list, and prints how many operations the list holds.
func persistedCmd(ctx context.Context, cfg Config, args []string) error {
	if len(args) == 0 || args[0] != "register" {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("persisted register", flag.ContinueOnError)
	client := fs.String("client", "app", "the client (X-Client-Name) the operations are for")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: server persisted register FILE [--client NAME]")
	}
	manifest, err := readManifest(fs.Arg(0))
	if err != nil {
		return err
	}
	d, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	n, err := db.NewPersistedOperations(d).RegisterOperations(ctx, *client, manifest)
	if err != nil {
		return err
	}
	fmt.Printf("registered %d operations for %s; it may run %d\n", len(manifest), *client, n)
	return nil
}

func readManifest(name string) (map[string]string, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var manifest map[string]string
	if err := json.Unmarshal(b, &manifest); err != nil {
		return nil, fmt.Errorf("%s: a manifest is a JSON object from operation name to query text: %w", name, err)
	}
	return manifest, nil
}

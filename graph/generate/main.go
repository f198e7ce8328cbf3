// Command generate writes the executable schema (graph/generated) and the input types
// (graph/model) from schema/, as `gqlgen generate` does, and then makes the plainest fields
// cheaper to serve (see lean.go). It is what `make generate` runs, and CI fails when its output
// differs from what is committed.
package main

import (
	"log"

	"github.com/99designs/gqlgen/api"
	"github.com/99designs/gqlgen/codegen/config"
)

func main() {
	log.SetFlags(0)
	cfg, err := config.LoadConfigFromDefaultLocations()
	if err != nil {
		log.Fatalf("generate: %v", err)
	}
	lean := &leanFields{}
	if err := api.Generate(cfg, api.AddPlugin(lean)); err != nil {
		log.Fatalf("generate: %v", err)
	}
	if err := lean.rewrite(cfg.Exec.Filename); err != nil {
		log.Fatalf("generate: %v", err)
	}
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/catfile"
	"github.com/sportello/sportello/db"
)

// catalogueCmd runs `import catalogue FILE` and `export catalogue FILE` for a tenant, as an
// administrator of it.
func catalogueCmd(ctx context.Context, cfg Config, cmd string, args []string) error {
	if len(args) == 0 || args[0] != "catalogue" {
		return fmt.Errorf("usage: server %s catalogue [--tenant SLUG] FILE", cmd)
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	tenant := fs.String("tenant", "default", "the municipality's slug")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: server %s catalogue [--tenant SLUG] FILE", cmd)
	}
	name := fs.Arg(0)
	d, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	tenantID, err := db.NewTenantService(d).TenantBySlug(ctx, *tenant)
	if err != nil {
		return fmt.Errorf("tenant %q: %w", *tenant, err)
	}
	ctx = sportello.WithUser(ctx, &sportello.User{TenantID: tenantID, Subject: "catalogue-" + cmd,
		Roles: []sportello.Role{sportello.RoleAdmin}})
	if cmd == "export" {
		return exportCatalogue(ctx, d, name)
	}
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	rep, err := importCatalogue(ctx, d, name, f, os.Stderr)
	if rep != nil {
		printReport(os.Stdout, rep)
	}
	if err != nil {
		return err
	}
	if len(rep.Rejected) > 0 {
		return fmt.Errorf("%d rows rejected", len(rep.Rejected))
	}
	return nil
}

// importCatalogue imports a file, drawing a progress bar on progress when it is a terminal.
func importCatalogue(ctx context.Context, d *db.DB, name string, r io.Reader, progress *os.File) (*catfile.Report, error) {
	entries, err := catfile.Read(name, r)
	if err != nil {
		return nil, err
	}
	offices, err := db.NewOfficeService(d).Offices(ctx)
	if err != nil {
		return nil, err
	}
	var bar func(done, total int)
	if isTerminal(progress) {
		bar = func(done, total int) { drawBar(progress, done, total) }
		defer fmt.Fprintln(progress)
	}
	return catfile.Import(ctx, db.NewCatalogueService(d), offices, entries, bar)
}

func exportCatalogue(ctx context.Context, d *db.DB, name string) error {
	c, err := db.NewCatalogueService(d).ExportCatalogue(ctx)
	if err != nil {
		return err
	}
	offices, err := db.NewOfficeService(d).Offices(ctx)
	if err != nil {
		return err
	}
	names := officeNames(offices)
	if err := writeFile(name, func(w io.Writer) error { return catfile.Write(name, w, c, names) }); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "exported %d services, %d procedures and %d acts to %s\n",
		len(c.Services), len(c.Procedures), len(c.Acts), name)
	return nil
}

// officeNames maps the offices' ids to their names, as export files name them.
func officeNames(offices []*sportello.Office) map[string]string {
	names := make(map[string]string, len(offices))
	for _, o := range offices {
		names[o.ID] = o.Name
	}
	return names
}

// writeFile creates the file name and writes it with write, reporting a failure to close it:
// an export whose last bytes did not reach the disk has failed.
func writeFile(name string, write func(io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func printReport(w io.Writer, rep *catfile.Report) {
	fmt.Fprintf(w, "created %d, updated %d, unchanged %d, rejected %d\n", rep.Created, rep.Updated, rep.Unchanged, len(rep.Rejected))
	for _, r := range rep.Rejected {
		fmt.Fprintln(w, "rejected", r)
	}
}

// isTerminal reports whether f is a terminal (a character device), so that a progress bar is
// drawn for people and never written into logs or pipes.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// drawBar redraws a progress bar in place.
func drawBar(w io.Writer, done, total int) {
	const width = 40
	if total == 0 {
		return
	}
	filled := width * done / total
	fmt.Fprintf(w, "\r[%s%s] %d/%d", strings.Repeat("#", filled), strings.Repeat(" ", width-filled), done, total)
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/oppfile"
)

// opportunitiesCmd runs `import opportunities FILE` and `export opportunities FILE` for a
// tenant, as an administrator of it.
func opportunitiesCmd(ctx context.Context, cfg Config, cmd string, args []string) error {
	usage := fmt.Errorf("usage: server %s opportunities [--tenant SLUG] [--mapping FILE] [--full] FILE", cmd)
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	tenant := fs.String("tenant", "default", "the municipality's slug")
	mappingName := fs.String("mapping", "", "a mapping file for a partner's CSV columns (import)")
	full := fs.Bool("full", false, "the file lists every opportunity of its sources: withdraw the others (import)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usage
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
	ctx = sportello.WithUser(ctx, &sportello.User{TenantID: tenantID, Subject: "opportunities-" + cmd,
		Roles: []sportello.Role{sportello.RoleAdmin}})
	offices, err := db.NewOfficeService(d).Offices(ctx)
	if err != nil {
		return err
	}
	youth := db.NewYouthService(d)
	if cmd == "export" {
		return exportOpportunities(ctx, youth, offices, name)
	}
	var mapping *oppfile.Mapping
	if *mappingName != "" {
		mf, err := os.Open(*mappingName)
		if err != nil {
			return err
		}
		mapping, err = oppfile.ReadMapping(mf)
		mf.Close()
		if err != nil {
			return err
		}
	}
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	entries, err := oppfile.Read(name, f, mapping)
	if err != nil {
		return err
	}
	var bar func(done, total int)
	if isTerminal(os.Stderr) {
		bar = func(done, total int) { drawBar(os.Stderr, done, total) }
	}
	rep, err := oppfile.Import(ctx, youth, offices, entries, *full, bar)
	if bar != nil {
		fmt.Fprintln(os.Stderr)
	}
	if rep != nil {
		fmt.Printf("created %d, updated %d, unchanged %d, withdrawn %d, rejected %d\n",
			rep.Created, rep.Updated, rep.Unchanged, rep.Withdrawn, len(rep.Rejected))
		for _, r := range rep.Rejected {
			fmt.Println("rejected", r)
		}
	}
	if err != nil {
		return err
	}
	if len(rep.Rejected) > 0 {
		return fmt.Errorf("%d rows rejected", len(rep.Rejected))
	}
	return nil
}

func exportOpportunities(ctx context.Context, youth *db.YouthService, offices []*sportello.Office, name string) error {
	all, err := youth.ExportOpportunities(ctx)
	if err != nil {
		return err
	}
	names := officeNames(offices)
	if err := writeFile(name, func(w io.Writer) error { return oppfile.Write(name, w, all, names) }); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "exported %d opportunities to %s\n", len(all), name)
	return nil
}

// youthJobsEvery is how often each instance expires opportunities and sends deadline
// reminders. Both jobs are safe to run on every instance at once.
const youthJobsEvery = time.Minute

// runYouthJobs runs the youth desk's jobs until ctx ends: expiring the opportunities past their
// deadline, and reminding citizens of the saved ones whose deadline is near.
func runYouthJobs(ctx context.Context, youth *db.YouthService) {
	t := time.NewTicker(youthJobsEvery)
	defer t.Stop()
	for {
		if _, err := youth.ExpireOpportunities(ctx); err != nil && ctx.Err() == nil {
			slog.Error("expire opportunities", "error", err)
		}
		if _, err := youth.SendDeadlineReminders(ctx); err != nil && ctx.Err() == nil {
			slog.Error("send deadline reminders", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

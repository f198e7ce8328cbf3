package db_test

import (
	"context"
	"testing"

	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/db/dbtest"
)

func TestDemoYouthDeskSeedsWithItsOfficeAndOpportunities(t *testing.T) {
	d := dbtest.New(t)
	for range 2 {
		if err := db.SeedDemo(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	var opportunities, published, offices, bookings int
	if err := d.Get(&opportunities, `SELECT count(*) FROM opportunities`); err != nil {
		t.Fatal(err)
	}
	d.Get(&published, `SELECT count(*) FROM opportunities WHERE status = 'PUBLISHED'`)
	d.Get(&offices, `SELECT count(*) FROM offices WHERE name = 'Informagiovani'`)
	d.Get(&bookings, `SELECT count(*) FROM booking_settings b JOIN offices o ON o.id = b.office_id WHERE o.name = 'Informagiovani'`)
	if opportunities != 10 || published != 9 || offices != 1 || bookings != 1 {
		t.Fatalf("seeded %d opportunities (%d published), %d Informagiovani offices with %d booking settings",
			opportunities, published, offices, bookings)
	}
}

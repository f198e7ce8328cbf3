package sportello

import (
	"math"
	"testing"
)

func TestLocationValidate(t *testing.T) {
	tests := []struct {
		name  string
		loc   Location
		field string // "" when valid
	}{
		{"coordinates", Location{Latitude: 45.07, Longitude: 7.69}, ""},
		{"address only", Location{Address: " Via Roma 1 "}, ""},
		{"both", Location{Latitude: 45.07, Longitude: 7.69, Address: "Via Roma 1"}, ""},
		{"neither", Location{}, "location"},
		{"latitude too far north", Location{Latitude: 91, Longitude: 7}, "location.latitude"},
		{"latitude not a number", Location{Latitude: math.NaN(), Longitude: 7}, "location.latitude"},
		{"longitude too far west", Location{Latitude: 45, Longitude: -181}, "location.longitude"},
		{"address too long", Location{Address: chars(MaxAddressLen + 1)}, "location.address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.loc.Validate("location")
			if tt.field == "" {
				wantNoError(t, err)
				return
			}
			wantError(t, err, CodeBadUserInput, tt.field)
		})
	}
}

func TestAreaValidate(t *testing.T) {
	tests := []struct {
		name  string
		area  Area
		field string
	}{
		{"a square in Turin", Area{Latitude: 45.07, Longitude: 7.69, RadiusMeters: 200}, ""},
		{"no radius", Area{Latitude: 45.07, Longitude: 7.69}, "near.radiusMeters"},
		{"radius larger than a province", Area{Latitude: 45.07, Longitude: 7.69, RadiusMeters: MaxAreaRadius + 1}, "near.radiusMeters"},
		{"bad latitude", Area{Latitude: -100, Longitude: 7.69, RadiusMeters: 10}, "near.latitude"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.area.Validate("near")
			if tt.field == "" {
				wantNoError(t, err)
				return
			}
			wantError(t, err, CodeBadUserInput, tt.field)
		})
	}
}

func TestDistanceMetersMatchesKnownDistances(t *testing.T) {
	tests := []struct {
		name                   string
		lat1, long1, lat2, lon float64
		want, tolerance        float64
	}{
		{"same point", 45.0703, 7.6869, 45.0703, 7.6869, 0, 0.001},
		// Piazza Castello to Porta Nuova in Turin: about 1.2 km.
		{"across a city centre", 45.0712, 7.6854, 45.0622, 7.6786, 1128, 15},
		// Rome (Piazza Venezia) to Milan (Duomo): about 477 km.
		{"between cities", 41.8960, 12.4823, 45.4642, 9.1900, 477_000, 2_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DistanceMeters(tt.lat1, tt.long1, tt.lat2, tt.lon)
			if math.Abs(got-tt.want) > tt.tolerance {
				t.Fatalf("DistanceMeters = %.1f m, want %.0f ± %.0f", got, tt.want, tt.tolerance)
			}
		})
	}
}

func TestAreaBoundingBoxHoldsEveryPointOfTheCircle(t *testing.T) {
	a := Area{Latitude: 45.07, Longitude: 7.69, RadiusMeters: 500}
	minLat, maxLat, minLong, maxLong := a.BoundingBox()
	for deg := 0.0; deg < 360; deg += 5 {
		// A point just inside the circle in every direction.
		r := 499.0 / earthRadius
		lat := a.Latitude + r*math.Cos(deg*math.Pi/180)*180/math.Pi
		long := a.Longitude + r*math.Sin(deg*math.Pi/180)*180/math.Pi/math.Cos(a.Latitude*math.Pi/180)
		if !a.Contains(lat, long) {
			continue
		}
		if lat < minLat || lat > maxLat || long < minLong || long > maxLong {
			t.Fatalf("point %.6f,%.6f at %v° is in the circle but outside the box", lat, long, deg)
		}
	}
	if a.Contains(45.08, 7.69) {
		t.Fatal("a point 1.1 km north is inside a 500 m circle")
	}
}

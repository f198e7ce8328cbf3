package sportello

import (
	"math"
	"strings"
)

// Location is where a report is: coordinates (WGS 84, as phones and maps give them), a street
// address, or both.
type Location struct {
	Latitude  float64
	Longitude float64
	Address   string
}

// HasCoordinates reports whether the location has coordinates. The point 0,0 lies in the Gulf of
// Guinea, on no municipality's territory, so it stands for "no coordinates".
func (l *Location) HasCoordinates() bool { return l.Latitude != 0 || l.Longitude != 0 }

// MaxAddressLen bounds a street address, in characters.
const MaxAddressLen = 300

// Validate checks the location, naming its fields under prefix; it returns BAD_USER_INPUT.
func (l *Location) Validate(prefix string) error {
	l.Address = strings.TrimSpace(l.Address)
	if err := checkLen(prefix+".address", l.Address, 0, MaxAddressLen); err != nil {
		return err
	}
	if !l.HasCoordinates() {
		if l.Address == "" {
			return InvalidField(prefix, "give coordinates, an address, or both")
		}
		return nil
	}
	if err := checkLatitude(prefix+".latitude", l.Latitude); err != nil {
		return err
	}
	return checkLongitude(prefix+".longitude", l.Longitude)
}

func checkLatitude(field string, v float64) error {
	if math.IsNaN(v) || v < -90 || v > 90 {
		return InvalidField(field, "must be between -90 and 90")
	}
	return nil
}

func checkLongitude(field string, v float64) error {
	if math.IsNaN(v) || v < -180 || v > 180 {
		return InvalidField(field, "must be between -180 and 180")
	}
	return nil
}

// Area is a circle on the map: the points within RadiusMeters of a centre.
type Area struct {
	Latitude     float64
	Longitude    float64
	RadiusMeters float64
}

// MaxAreaRadius bounds an area's radius: a municipality fits in it many times over.
const MaxAreaRadius = 100_000

// Validate checks the area, naming its fields under prefix; it returns BAD_USER_INPUT.
func (a *Area) Validate(prefix string) error {
	if err := checkLatitude(prefix+".latitude", a.Latitude); err != nil {
		return err
	}
	if err := checkLongitude(prefix+".longitude", a.Longitude); err != nil {
		return err
	}
	if math.IsNaN(a.RadiusMeters) || a.RadiusMeters <= 0 || a.RadiusMeters > MaxAreaRadius {
		return InvalidField(prefix+".radiusMeters", "must be more than 0 and at most %d", MaxAreaRadius)
	}
	return nil
}

// Contains reports whether the point lies in the area.
func (a *Area) Contains(lat, long float64) bool {
	return DistanceMeters(a.Latitude, a.Longitude, lat, long) <= a.RadiusMeters
}

// BoundingBox returns the smallest latitude/longitude box around the area, for an index to
// narrow a search before the exact distance is checked. Near the poles the box spans every
// longitude.
func (a *Area) BoundingBox() (minLat, maxLat, minLong, maxLong float64) {
	dLat := a.RadiusMeters / earthRadius * 180 / math.Pi
	minLat, maxLat = max(a.Latitude-dLat, -90), min(a.Latitude+dLat, 90)
	cos := math.Cos(a.Latitude * math.Pi / 180)
	if cos < 1e-6 || maxLat == 90 || minLat == -90 {
		return minLat, maxLat, -180, 180
	}
	dLong := dLat / cos
	return minLat, maxLat, max(a.Longitude-dLong, -180), min(a.Longitude+dLong, 180)
}

// earthRadius is the mean radius of the Earth in meters, as great_circle_m (migration 0010) uses it.
const earthRadius = 6_371_008.8

// DistanceMeters is the great-circle distance between two points (haversine formula): within
// a municipality it is exact to well under a meter.
func DistanceMeters(lat1, long1, lat2, long2 float64) float64 {
	const rad = math.Pi / 180
	dLat := (lat2 - lat1) * rad
	dLong := (long2 - long1) * rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLong/2)*math.Sin(dLong/2)
	return 2 * earthRadius * math.Asin(math.Sqrt(min(h, 1)))
}

package db

import (
	"fmt"

	sportello "github.com/sportello/sportello"
)

// nearCondition is the SQL condition that the row of alias (with latitude and longitude
// columns) lies in the area: a bounding box first, which the location index serves, then the
// exact great-circle distance (great_circle_m of migration 0010, the same haversine formula as
// sportello.DistanceMeters).
func nearCondition(a *args, alias string, area *sportello.Area) string {
	minLat, maxLat, minLong, maxLong := area.BoundingBox()
	lat, long := alias+".latitude", alias+".longitude"
	return fmt.Sprintf(`(%[1]s BETWEEN %[3]s::float8 AND %[4]s::float8 AND %[2]s BETWEEN %[5]s::float8 AND %[6]s::float8
		AND great_circle_m(%[7]s::float8, %[8]s::float8, %[1]s, %[2]s) <= %[9]s::float8)`,
		lat, long, a.add(minLat), a.add(maxLat), a.add(minLong), a.add(maxLong),
		a.add(area.Latitude), a.add(area.Longitude), a.add(area.RadiusMeters))
}

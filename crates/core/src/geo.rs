//! Geographic points in CGCS2000 (EPSG:4490), in GeoJSON axis order: longitude, latitude
//! (RFC 7946 §3.1.1; standards.md "Coordinates").
//!
//! The EPSG:4490 definition lists latitude first; keeping one order everywhere, with named accessors,
//! avoids the classic swapped-axis bug. Points outside a box around China are refused, which also
//! catches swapped axes for the zone (35.8°N, 118.6°E would read as longitude 35.8).

use serde::{Serialize, Serializer};

/// A user-facing error about a coordinate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct GeoError {
    pub message: String,
}

/// Longitude and latitude bounds of a generous box around China's territory.
const LON_MIN: f64 = 73.0;
const LON_MAX: f64 = 135.5;
const LAT_MIN: f64 = 3.5;
const LAT_MAX: f64 = 53.6;

/// A CGCS2000 geographic point inside China's bounding box, in decimal degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LonLat {
    lon: f64,
    lat: f64,
}

impl LonLat {
    pub fn parse(lon: f64, lat: f64) -> Result<LonLat, GeoError> {
        if !lon.is_finite() || !lat.is_finite() {
            return Err(GeoError { message: "坐标不是有效的数字".to_owned() });
        }
        if !(LON_MIN..=LON_MAX).contains(&lon) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
            return Err(GeoError {
                message: "坐标不在中国境内（经度 73–135.5，纬度 3.5–53.6）".to_owned()
            });
        }
        Ok(LonLat { lon, lat })
    }

    pub fn lon(self) -> f64 {
        self.lon
    }

    pub fn lat(self) -> f64 {
        self.lat
    }
}

/// Serialised as a GeoJSON position `[lon, lat]`.
impl Serialize for LonLat {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        [self.lon, self.lat].serialize(s)
    }
}

/// Whether `p` lies inside the polygon ring of (lon, lat) vertices, by even-odd ray casting
/// (W. R. Franklin, PNPOLY). The ring may be open or closed (first vertex repeated). Points exactly on
/// an edge may fall either way; parcels are far larger than that ambiguity. Planar test in degrees:
/// adequate for parcels a few kilometres across.
pub fn point_in_polygon(p: LonLat, ring: &[(f64, f64)]) -> bool {
    if ring.len() < 3 {
        return false;
    }
    let (x, y) = (p.lon, p.lat);
    let next = ring.iter().skip(1).chain(ring.first());
    let mut inside = false;
    for (&(xi, yi), &(xj, yj)) in ring.iter().zip(next) {
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(lon: f64, lat: f64) -> LonLat {
        LonLat::parse(lon, lat).unwrap_or(LonLat { lon: f64::NAN, lat: f64::NAN })
    }

    #[test]
    fn accepts_the_county_seat() {
        let p = LonLat::parse(118.63, 35.79);
        assert_eq!(p.map(|p| (p.lon(), p.lat())), Ok((118.63, 35.79)));
        assert!(LonLat::parse(73.0, 3.5).is_ok());
        assert!(LonLat::parse(135.5, 53.6).is_ok());
    }

    #[test]
    fn rejects_non_finite_and_foreign_points() {
        let outside = "坐标不在中国境内（经度 73–135.5，纬度 3.5–53.6）";
        for (lon, lat) in [(35.79, 118.63), (0.0, 0.0), (-118.63, 35.79), (118.63, 60.0), (140.0, 35.0)] {
            assert_eq!(LonLat::parse(lon, lat).map_err(|e| e.message), Err(outside.to_owned()));
        }
        for (lon, lat) in [(f64::NAN, 35.0), (118.0, f64::INFINITY), (f64::NEG_INFINITY, 35.0)] {
            assert_eq!(LonLat::parse(lon, lat).map_err(|e| e.message), Err("坐标不是有效的数字".to_owned()));
        }
    }

    #[test]
    fn square_open_and_closed() {
        let open = [(118.0, 35.0), (119.0, 35.0), (119.0, 36.0), (118.0, 36.0)];
        let closed = [(118.0, 35.0), (119.0, 35.0), (119.0, 36.0), (118.0, 36.0), (118.0, 35.0)];
        for ring in [&open[..], &closed[..]] {
            assert!(point_in_polygon(pt(118.63, 35.79), ring));
            assert!(!point_in_polygon(pt(119.5, 35.5), ring));
            assert!(!point_in_polygon(pt(118.5, 36.5), ring));
            assert!(!point_in_polygon(pt(117.5, 35.5), ring));
        }
    }

    #[test]
    fn concave_ring() {
        // A "U": the notch between 118.4 and 118.6 above 35.5 is outside.
        let u = [
            (118.0, 35.0),
            (119.0, 35.0),
            (119.0, 36.0),
            (118.6, 36.0),
            (118.6, 35.5),
            (118.4, 35.5),
            (118.4, 36.0),
            (118.0, 36.0),
        ];
        assert!(!point_in_polygon(pt(118.5, 35.8), &u));
        assert!(point_in_polygon(pt(118.5, 35.2), &u));
        assert!(point_in_polygon(pt(118.2, 35.8), &u));
        assert!(point_in_polygon(pt(118.8, 35.8), &u));
    }

    #[test]
    fn degenerate_rings_contain_nothing() {
        assert!(!point_in_polygon(pt(118.5, 35.5), &[]));
        assert!(!point_in_polygon(pt(118.5, 35.5), &[(118.0, 35.0), (119.0, 36.0)]));
    }
}

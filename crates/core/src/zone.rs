//! The zone itself: its three project areas (standards.md). The outlines are schematic, drawn around
//! the county seat (35.79°N, 118.63°E) where the areas lie, not surveyed boundaries.

/// A project area (片区) with its boundary ring of (lon, lat), CGCS2000.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProjectArea {
    pub code: &'static str,
    pub name: &'static str,
    pub industries: &'static str,
    pub ring: &'static [(f64, f64)],
}

pub const PROJECT_AREAS: [ProjectArea; 3] = [
    ProjectArea {
        code: "binhe",
        name: "滨河片区",
        industries: "电子信息、机械制造、纺织服装、新材料",
        ring: &[
            (118.640, 35.745),
            (118.690, 35.748),
            (118.695, 35.785),
            (118.655, 35.792),
            (118.638, 35.770),
            (118.640, 35.745),
        ],
    },
    ProjectArea {
        code: "lushan",
        name: "庐山化工园区",
        industries: "能源和精细化工、生物医药",
        ring: &[
            (118.548, 35.700),
            (118.598, 35.702),
            (118.602, 35.738),
            (118.560, 35.742),
            (118.546, 35.722),
            (118.548, 35.700),
        ],
    },
    ProjectArea {
        code: "chengbei",
        name: "城北片区",
        industries: "休闲食品、包装印刷、机械配件",
        ring: &[
            (118.600, 35.820),
            (118.660, 35.818),
            (118.664, 35.858),
            (118.615, 35.862),
            (118.598, 35.842),
            (118.600, 35.820),
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rings_are_closed_and_near_the_county_seat() {
        for a in PROJECT_AREAS {
            assert_eq!(a.ring.first(), a.ring.last(), "{}", a.name);
            for (lon, lat) in a.ring {
                assert!((118.5..118.8).contains(lon) && (35.6..35.95).contains(lat));
            }
        }
    }
}

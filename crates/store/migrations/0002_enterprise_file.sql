-- The full enterprise file (一企一档): location, land, scale, size, capital, establishment, tags.
-- CGCS2000 longitude and latitude in millionths of a degree (about 0.1 m): integers keep both backends
-- exact and identical.
ALTER TABLE enterprises ADD COLUMN lon_e6 BIGINT;
ALTER TABLE enterprises ADD COLUMN lat_e6 BIGINT;
ALTER TABLE enterprises ADD COLUMN land_area_centi_m2 BIGINT;
ALTER TABLE enterprises ADD COLUMN above_scale BIGINT NOT NULL DEFAULT 0;
ALTER TABLE enterprises ADD COLUMN employees BIGINT;
ALTER TABLE enterprises ADD COLUMN registered_capital_fen BIGINT;
ALTER TABLE enterprises ADD COLUMN established TEXT;
ALTER TABLE enterprises ADD COLUMN tags TEXT NOT NULL DEFAULT '';
CREATE INDEX enterprises_industry ON enterprises(industry_code);
CREATE INDEX enterprises_area ON enterprises(project_area);
CREATE INDEX enterprises_status ON enterprises(status);

-- Devices sign in to the MQTT listener with their secret (ThingsBoard's access token): found by the
-- secret's keyed hash.
CREATE INDEX gas_detectors_secret ON gas_detectors(device_secret_hash);

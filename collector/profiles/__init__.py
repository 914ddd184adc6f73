"""Pure parsers for the GATT characteristics the collector understands, one module per profile."""

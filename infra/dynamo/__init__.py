"""DynamoDB adapters (PynamoDB models built from ``domain.ports`` table specs)."""

"""Adapters: DynamoDB (PynamoDB) stores, an in-memory store for unit tests, the local runtime."""

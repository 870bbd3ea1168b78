"""The local runtime: ``flowplane serve`` / ``invoke`` / ``tick`` on an embedded DynamoDB."""

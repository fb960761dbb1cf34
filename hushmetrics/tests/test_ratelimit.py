"""Rate limiting and client_ip, asserted through the HTTP answers and the cache (TESTING.md)."""

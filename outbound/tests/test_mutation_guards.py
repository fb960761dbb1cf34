"""What outbound delivery and signing promise, as the receiver, the stored delivery and its
schedule show it (the tests `make mutation` found missing; see TESTING.md)."""

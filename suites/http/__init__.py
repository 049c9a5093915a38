"""The http suite: an HTTP/1.1 origin server and an HTTP client."""

"""The wsgi suite: WSGI applications, and the servers that run them."""

"""One module per console script; each is a thin click layer over the library."""

"""newsmon: follow news stories across outlets and see how articles change."""

__version__ = "0.1.0"

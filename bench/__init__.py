"""``make bench``: load the public pages and a ticket rush under gunicorn (see bench/README.md)."""

"""The SQL of each documented view, one `.sql` file per view, its grain on its first line.

`capwatch.schema` reads them (with their columns and descriptions) and `capwatch.db` creates
them; a wheel carries them as package data.
"""

"""OGC API – Features (Parts 1–3) and Tiles over every layer of GridGov, as GIS clients expect.

A collection is one declaration (`registry.Collection`): where its rows come from, its fields
(each with its SQL, type, label, and whether the public may see it), how `datetime` reads its
history, and how its vector tiles look. Apps declare theirs in their `AppConfig.ready()` with
`registry.register(...)`, the grid core declares grid cells and administrative areas in
`core.py`. Registering a collection also registers its vector-tile layer (`gridgov.tiles`),
so `/ogc/collections/<id>/items`, `/ogc/collections/<id>/tiles/…`, `/tiles/<id>/…`, its
TileJSON and its Mapbox GL style all come from the same declaration.

Modules: `registry` (declarations), `params` (the query string of the items, validated),
`cql2` (CQL2 text/JSON → parameterised SQL over the queryables), `query` (the SQL of a page),
`views` (Features), `tilesets` (Tiles), `openapi` (the API document), `urls`.
"""

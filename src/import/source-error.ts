// A source that cannot be read at all (unreachable server, missing table, Python that cannot load the app):
// the import stops with this one line rather than reporting entries.
export class SourceError extends Error {}

/**
 * A list of ids held in the session variable `@ids` (a JSON array) between the statements of one
 * round trip, and joined back by primary key through `JSON_TABLE`.
 *
 * @internal
 * @module
 */

/** The rows of `@ids`, as a table `j` with columns `n` (1-based position in the list) and `id`. */
export const IDS_TABLE =
  "JSON_TABLE(COALESCE(@ids, '[]'), '$[*]' COLUMNS (n FOR ORDINALITY, id BIGINT UNSIGNED PATH '$')) AS j";

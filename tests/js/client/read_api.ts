// A typed client of icc-events: reads a page of warrants, follows its links, prints what it found.
// Usage: node read_api.js http://127.0.0.1:8000
import type { components, paths } from "../generated/api";

type Schemas = components["schemas"];
type Json<P extends keyof paths> = paths[P] extends {
  get: { responses: { 200: { content: { "application/json": infer Body } } } };
}
  ? Body
  : never;

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Schemas["Problem"],
  ) {
    super(`${problem.status} ${problem.title}: ${problem.detail ?? ""}`);
  }
}

// The path type names what the URL answers; the URL itself may come from a link.
async function read<P extends keyof paths>(_path: P, url: string): Promise<Json<P>> {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (response.status !== 200) {
    throw new ApiError(response.status, (await response.json()) as Schemas["Problem"]);
  }
  return (await response.json()) as Json<P>;
}

async function main(base: string): Promise<void> {
  const first = await read("/v1/warrants", `${base}/v1/warrants?sort=id&limit=1`);
  const listed = first.data[0];
  if (listed === undefined || first.links.next === null) {
    throw new Error("expected a first page with a next page");
  }
  const second = await read("/v1/warrants", first.links.next);
  const self = listed.links?.self;
  if (self === undefined) {
    throw new Error("a record without links.self");
  }
  // A record's links are relative references: resolved against the URL the record was read from.
  const selfUrl = new URL(self, first.links.self).href;
  const warrant: Schemas["Warrant"] | Schemas["WarrantShaped"] = await read("/v1/warrants/{record_id}", selfUrl);
  const court = warrant.links?.court;
  const official = await read("/v1/officials/{record_id}", `${base}/v1/officials/tomoko-akane`);
  let missing: number | null = null;
  try {
    await read("/v1/warrants/{record_id}", `${base}/v1/warrants/no-such-warrant`);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    missing = error.problem.status;
  }
  const summary = {
    page: { ids: first.data.map((r) => r.id), self: first.links.self, next: first.links.next },
    next_page_ids: second.data.map((r) => r.id),
    record: { id: warrant.id, title: warrant.title, situation: warrant.situation, self, selfUrl, court },
    official_links: official.links,
    missing_status: missing,
  };
  process.stdout.write(JSON.stringify(summary));
}

const base = process.argv[2];
if (base === undefined) {
  throw new Error("usage: node read_api.js BASE_URL");
}
main(base).catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});

// Compile-time checks that the generated types are strict where clients need them to be.
// tsc fails on an unused @ts-expect-error, so each one below proves that a mistake is caught.
import type { components, paths } from "../generated/api";

type Schemas = components["schemas"];

export function linksAreTypedByName(warrant: Schemas["Warrant"]): (string | undefined)[] {
  // @ts-expect-error a link that warrants do not have
  const unknown = warrant.links?.speaker;
  return [warrant.links?.self, warrant.links?.subject_official, warrant.links?.court, unknown];
}

export function backlinksAreAlwaysThere(official: Schemas["Official"]): string[] {
  const links = official.links;
  return links === undefined ? [] : [links.self, links.statements, links.warrants, links.sanctions];
}

export function pageLinksMayEnd(page: Schemas["WarrantList"]): string {
  // @ts-expect-error next is null on the last page
  const next: string = page.links.next;
  return page.links.self + next;
}

// situation is an open code list: a situation the court opens tomorrow is still a valid value.
export const newSituation: Schemas["Warrant"]["situation"] = "ukraine";

type SpecDocument = paths["/openapi.yaml"]["get"]["responses"][200]["content"]["application/yaml"];

export function specIsDescribed(spec: SpecDocument): string {
  // @ts-expect-error the version is a string
  const version: number = spec.openapi;
  return `${spec.info.title} ${spec.info.version} ${version}`;
}

export function cursorsAreOpaqueStrings(query: paths["/v1/changes"]["get"]["parameters"]["query"]): string {
  return query?.since ?? "";
}

// The GraphQL client of the dashboard: POST /graphql like any third-party frontend. The API key (when
// the server needs one) lives only in sessionStorage: it is gone when the tab closes.

const KEY = "crm-graph-api-key";

export class ApiError extends Error {
  constructor(message, code, errors) {
    super(message);
    this.code = code || "ERROR";
    this.errors = errors || [];
  }
}

export function getKey() {
  return sessionStorage.getItem(KEY) || "";
}

export function setKey(key) {
  if (key) sessionStorage.setItem(KEY, key.trim());
  else sessionStorage.removeItem(KEY);
}

/** Run one GraphQL document; resolves with {data, errors} (partial answers keep their data).
 * Rejects with ApiError: UNAUTHENTICATED (missing, invalid or revoked key), HTTP errors, network. */
export async function gql(query, variables = {}, { signal } = {}) {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  const key = getKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  let response;
  try {
    response = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }), signal });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError("The server cannot be reached; check that crm-graph is running.", "NETWORK");
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`The server answered HTTP ${response.status} without a GraphQL answer.`, "HTTP");
  }
  const errors = body.errors || [];
  const auth = errors.find((e) => e.extensions && e.extensions.code === "UNAUTHENTICATED");
  if (auth) throw new ApiError(auth.message, "UNAUTHENTICATED", errors);
  if (!body.data) {
    const first = errors[0] || { message: `HTTP ${response.status}` };
    throw new ApiError(first.message, (first.extensions && first.extensions.code) || "ERROR", errors);
  }
  return { data: body.data, errors };
}

/** What every mutation asks of its error members: the message to show, what kind, and which input. */
export const USER_ERROR = "... on UserError { code message field }";

/** A mistake in a mutation's input, as the API returned it in the result union (nothing was changed):
 * `code` (VALIDATION, NOT_FOUND, CONFLICT…) and `field`, the path of the input at fault (or null). */
export class InputError extends Error {
  constructor({ message, code, field }) {
    super(message);
    this.code = code;
    this.field = field || null;
  }
}

/** Run a mutation whose result (field `name` of the answer) is a union of one success type and the
 * UserError types: resolves with the success object, rejects with InputError for an error member. */
export async function mutate(document, variables, name) {
  const { data, errors } = await gql(document, variables);
  const result = data[name];
  if (!result) throw new ApiError((errors[0] && errors[0].message) || "The server gave no answer.", "ERROR", errors);
  if (typeof result.code === "string" && typeof result.message === "string") throw new InputError(result);
  return result;
}
